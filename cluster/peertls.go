package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"
)

// PeerTLS puts every connection between nodes (Raft and the cluster RPC)
// in mutual TLS: each side presents Cert and accepts the other's only if
// it chains to CAs. Any certificate the cluster's CA signed is a member's:
// host names are not checked, since peers are dialed at whatever address
// they advertise (names or IPs that change). The cluster secret, if any,
// is still checked inside the TLS session.
type PeerTLS struct {
	Cert tls.Certificate
	CAs  *x509.CertPool
}

// serverConfig is the acceptor's side: a client certificate is required.
func (p *PeerTLS) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.Cert},
		ClientCAs:    p.CAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS13,
	}
}

// clientConfig is the dialer's side: the chain is verified against CAs
// in VerifyConnection instead of the usual host name check.
func (p *PeerTLS) clientConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.Cert},
		MinVersion:   tls.VersionTLS13,
		// Verified below, against the cluster CA without a host name.
		InsecureSkipVerify: true, //nolint:gosec // see VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("peer sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots: p.CAs, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			return err
		},
	}
}

// tlsClient runs the dialer's TLS handshake on conn. A peer that does not
// speak TLS, or whose certificate the cluster CA did not sign, fails
// errAuth: like a wrong cluster secret, it is not a member.
func tlsClient(conn net.Conn, cfg *tls.Config, deadline time.Time) (net.Conn, error) {
	tc := tls.Client(conn, cfg)
	_ = tc.SetDeadline(deadline)
	defer tc.SetDeadline(time.Time{})
	if err := tc.Handshake(); err != nil {
		var rec tls.RecordHeaderError
		var alert tls.AlertError
		var verify *tls.CertificateVerificationError
		var unknownAuth x509.UnknownAuthorityError
		if errors.As(err, &rec) || errors.As(err, &alert) || errors.As(err, &verify) || errors.As(err, &unknownAuth) {
			return nil, fmt.Errorf("%w: TLS: %w", errAuth, err)
		}
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}
