// Package testcerts makes a throwaway certificate authority with a server
// and a client certificate, for tests of the TLS ports.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Set is a CA and two certificates it signed, PEM encoded.
type Set struct {
	CA                    []byte
	ServerCert, ServerKey []byte // for localhost, 127.0.0.1 and ::1; also a client certificate
	ClientCert, ClientKey []byte
}

// New makes a fresh Set valid for an hour.
func New() (*Set, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := template("raftstream test CA")
	caTmpl.IsCA, caTmpl.BasicConstraintsValid = true, true
	caTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("testcerts: CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	s := &Set{CA: pemBlock("CERTIFICATE", caDER)}
	srv := template("raftstream test server")
	srv.DNSNames = []string{"localhost"}
	srv.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	// Both usages: a cluster node presents it when it dials peers too.
	srv.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if s.ServerCert, s.ServerKey, err = issue(srv, ca, caKey); err != nil {
		return nil, err
	}
	cl := template("raftstream test client")
	cl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if s.ClientCert, s.ClientKey, err = issue(cl, ca, caKey); err != nil {
		return nil, err
	}
	return s, nil
}

// Files writes the Set to dir as ca.crt, server.crt, server.key,
// client.crt and client.key, and returns dir's paths by those names.
func (s *Set) Files(dir string) (map[string]string, error) {
	out := map[string]string{}
	for name, b := range map[string][]byte{
		"ca.crt": s.CA, "server.crt": s.ServerCert, "server.key": s.ServerKey,
		"client.crt": s.ClientCert, "client.key": s.ClientKey,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, fmt.Errorf("testcerts: %w", err)
		}
		out[name] = p
	}
	return out, nil
}

// Pool is a certificate pool holding the CA.
func (s *Set) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(s.CA)
	return p
}

// Client is the client's key pair.
func (s *Set) Client() (tls.Certificate, error) { return tls.X509KeyPair(s.ClientCert, s.ClientKey) }

// Server is the server's key pair.
func (s *Set) Server() (tls.Certificate, error) { return tls.X509KeyPair(s.ServerCert, s.ServerKey) }

func template(cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (cert, key []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("testcerts: %s: %w", tmpl.Subject.CommonName, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
