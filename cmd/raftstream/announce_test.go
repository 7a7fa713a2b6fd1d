package main

import (
	"io"
	"testing"
)

func TestClusterAnnounceFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "127.0.0.1:6379"}, "127.0.0.1:6379"},
		{[]string{"--listen", "127.0.0.1:6379", "--cluster-announce-ip", "10.0.0.5"}, "10.0.0.5:6379"},
		{[]string{"--listen", "127.0.0.1:6379", "--cluster-announce-port", "30001"}, "127.0.0.1:30001"},
		{[]string{"--listen", "0.0.0.0:6379", "--cluster-announce-ip", "rs-0.rs.ns.svc"}, "rs-0.rs.ns.svc:6379"},
		{[]string{"--listen", "0.0.0.0:6379"}, ""},
		{[]string{"--listen", "0.0.0.0:0", "--cluster-announce-ip", "10.0.0.5"}, ""}, // port known once bound
		{[]string{"--advertise-client", "lb.example:7000", "--cluster-announce-port", "7001"}, "lb.example:7001"},
		{[]string{"--listen", "[::1]:6379", "--cluster-announce-ip", "fd00::5"}, "[fd00::5]:6379"},
	} {
		o, err := parseFlagsEnv(tc.args, io.Discard, nil)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if o.node.ClientAddr != tc.want {
			t.Errorf("%v: advertised client address %q, want %q", tc.args, o.node.ClientAddr, tc.want)
		}
	}
	if _, err := parseFlagsEnv([]string{"--cluster-announce-port", "70000"}, io.Discard, nil); err == nil {
		t.Error("--cluster-announce-port 70000 accepted")
	}
	if got := announced("", "0.0.0.0:41234", "10.0.0.5", 0); got != "10.0.0.5:41234" {
		t.Errorf("announced with the bound listener = %q", got)
	}
}
