package cluster

import (
	"net"
	"testing"
)

func TestAdvertiseAddr(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7379}
	wildcard := &net.TCPAddr{IP: net.IPv4zero, Port: 7379}
	for _, tc := range []struct {
		advertise string
		bound     net.Addr
		want      string
		wantErr   bool
	}{
		{"", bound, "127.0.0.1:7379", false},
		{"", wildcard, "", true},
		// Names stay names: pod IPs change, their DNS names do not.
		{"raftstream-0.raftstream-peers.default.svc.cluster.local:7379", wildcard, "raftstream-0.raftstream-peers.default.svc.cluster.local:7379", false},
		{"node1:7379", bound, "node1:7379", false},
		{"10.0.0.5:7379", wildcard, "10.0.0.5:7379", false},
		{"node1", bound, "", true},
		{"node1:", bound, "", true},
	} {
		got, err := advertiseAddr(tc.advertise, tc.bound)
		if tc.wantErr {
			if err == nil {
				t.Errorf("advertiseAddr(%q, %v) = %v, want an error", tc.advertise, tc.bound, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want || got.Network() != "tcp" {
			t.Errorf("advertiseAddr(%q, %v) = %v, %v; want %s", tc.advertise, tc.bound, got, err, tc.want)
		}
	}
}
