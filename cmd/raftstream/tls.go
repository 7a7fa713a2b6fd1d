package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/raftstream/raftstream/cluster"
)

// tlsOptions are the client TLS flags, named as Redis's settings.
type tlsOptions struct {
	port        int
	certFile    string
	keyFile     string
	caCertFile  string
	authClients string // yes, no or optional
	cluster     string // yes or no: peer links in mutual TLS
}

// check validates the flags together; addr is --listen, whose host the
// TLS port shares. It returns the TLS address, "" when TLS is off.
func (o tlsOptions) check(listen string) (string, error) {
	switch o.authClients {
	case "yes", "no", "optional":
	default:
		return "", fmt.Errorf("--tls-auth-clients %q: want yes, no or optional", o.authClients)
	}
	switch o.cluster {
	case "no":
	case "yes":
		if o.certFile == "" || o.keyFile == "" || o.caCertFile == "" {
			return "", errors.New("--tls-cluster yes needs --tls-cert-file, --tls-key-file and --tls-ca-cert-file")
		}
	default:
		return "", fmt.Errorf("--tls-cluster %q: want yes or no", o.cluster)
	}
	if o.port == 0 {
		return "", nil
	}
	if o.port < 0 || o.port > 65535 {
		return "", fmt.Errorf("--tls-port %d: want 1 to 65535 (0: no TLS)", o.port)
	}
	if o.certFile == "" || o.keyFile == "" {
		return "", errors.New("--tls-port needs --tls-cert-file and --tls-key-file")
	}
	if o.authClients != "no" && o.caCertFile == "" {
		// Redis refuses the same way: it cannot verify client certificates.
		return "", errors.New("--tls-auth-clients yes or optional needs --tls-ca-cert-file (or set --tls-auth-clients no)")
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen %q: %w", listen, err)
	}
	return net.JoinHostPort(host, strconv.Itoa(o.port)), nil
}

// peer loads the certificates for mutual TLS between nodes, or returns
// nil without --tls-cluster yes.
func (o tlsOptions) peer() (*cluster.PeerTLS, error) {
	if o.cluster != "yes" {
		return nil, nil
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	return &cluster.PeerTLS{Cert: cfg.Certificates[0], CAs: cfg.ClientCAs}, nil
}

// config loads the certificates into the TLS configuration of the
// client port.
func (o tlsOptions) config() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load --tls-cert-file/--tls-key-file: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.caCertFile != "" {
		pem, err := os.ReadFile(o.caCertFile)
		if err != nil {
			return nil, fmt.Errorf("read --tls-ca-cert-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca-cert-file %s: no PEM certificate in it", o.caCertFile)
		}
		cfg.ClientCAs = pool
	}
	switch o.authClients {
	case "yes":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.NoClientCert
	}
	return cfg, nil
}
