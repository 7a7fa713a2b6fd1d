package server

import (
	"bufio"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/raftstream/raftstream/internal/testcerts"
)

// startTLSServer serves a TLS port with the test certificates and the
// given client authentication.
func startTLSServer(t *testing.T, certs *testcerts.Set, auth tls.ClientAuthType, cfg Config) *Server {
	t.Helper()
	cert, err := certs.Server()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSAddr = "127.0.0.1:0"
	cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: certs.Pool(), ClientAuth: auth}
	return startServer(t, cfg, startNode(t))
}

// dialTLS connects to s's TLS port as a client with or without the
// client certificate.
func dialTLS(t *testing.T, s *Server, certs *testcerts.Set, withCert bool) (*rawConn, error) {
	t.Helper()
	cfg := &tls.Config{RootCAs: certs.Pool(), ServerName: "localhost"}
	if withCert {
		c, err := certs.Client()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	c, err := tls.Dial("tcp", s.TLSAddr().String(), cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}, nil
}

func TestTLSPort(t *testing.T) {
	certs, err := testcerts.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		auth          tls.ClientAuthType
		withoutCertOK bool
	}{
		{"tls-auth-clients yes", tls.RequireAndVerifyClientCert, false},
		{"tls-auth-clients optional", tls.VerifyClientCertIfGiven, true},
		{"tls-auth-clients no", tls.NoClientCert, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startTLSServer(t, certs, tc.auth, Config{})
			c, err := dialTLS(t, s, certs, true)
			if err != nil {
				t.Fatal(err)
			}
			c.expect("+PONG\r\n", "PING")
			c.expect("$1\r\nv\r\n", "ECHO", "v")
			if got := c.do("XADD", "s", "1-1", "f", "v"); got != "$3\r\n1-1\r\n" {
				t.Fatalf("XADD over TLS: %q", got)
			}
			// The plain port serves the same state.
			dialRaw(t, s).expect(":1\r\n", "XLEN", "s")

			c, err = dialTLS(t, s, certs, false)
			if err == nil {
				// TLS 1.3: the server's verdict on the client certificate
				// arrives with the first read.
				_ = c.c.(*tls.Conn).Handshake()
				c.send(encode("PING"))
				_, err = c.br.ReadString('\n')
			}
			if tc.withoutCertOK != (err == nil) {
				t.Fatalf("client without a certificate: err %v, want ok=%v", err, tc.withoutCertOK)
			}
			if err != nil && !strings.Contains(err.Error(), "certificate") {
				t.Errorf("refusal of a client without a certificate: %v", err)
			}
		})
	}
	t.Run("protected mode", func(t *testing.T) {
		ext := externalIP(t)
		cert, err := certs.Server()
		if err != nil {
			t.Fatal(err)
		}
		s := startServer(t, Config{Addr: "127.0.0.1:0", TLSAddr: "0.0.0.0:0",
			TLS: &tls.Config{Certificates: []tls.Certificate{cert}}}, startNode(t))
		port := s.TLSAddr().String()[strings.LastIndex(s.TLSAddr().String(), ":"):]
		c, err := tls.Dial("tcp", ext+port, &tls.Config{RootCAs: certs.Pool(), ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rc := &rawConn{t: t, c: c, br: bufio.NewReader(c)}
		if got := rc.read(); got != protectedModeDenied {
			t.Fatalf("non-loopback TLS client without a password: %q", got)
		}
		rc.expectClosed()
	})
}
