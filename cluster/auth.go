package cluster

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Every connection to the Raft port (Raft itself and the forwarding RPC)
// starts with a mutual challenge-response on the cluster secret, so a
// peer without the secret can neither feed us Raft RPCs nor receive
// ours, and the secret never crosses the wire:
//
//	dialer   -> kind:1 nonceD:16
//	acceptor -> nonceA:16 HMAC(secret, "raftstream-accept" kind nonceD nonceA)
//	dialer   -> HMAC(secret, "raftstream-dial"   kind nonceD nonceA)
//
// Each side checks the other's MAC before anything else is exchanged. An
// empty secret is a secret too: nodes without one interoperate, and a
// node with one refuses them. It costs one extra round trip per
// connection; connections are pooled, so not per request. There is no
// encryption: the secret authenticates, it does not hide traffic.
const (
	authNonceLen = 16
	authMACLen   = sha256.Size
)

// errAuth is returned when the peer does not prove it holds the secret.
var errAuth = errors.New("cluster: peer failed cluster-secret authentication (is --cluster-secret the same on every node?)")

func authMAC(secret []byte, label string, kind byte, nonceD, nonceA []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{kind})
	m.Write(nonceD)
	m.Write(nonceA)
	return m.Sum(nil)
}

// dialHandshake runs the dialer's side on a fresh connection.
func dialHandshake(conn net.Conn, kind byte, secret []byte, deadline time.Time) error {
	_ = conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	hello := make([]byte, 1+authNonceLen)
	hello[0] = kind
	if _, err := rand.Read(hello[1:]); err != nil {
		return fmt.Errorf("cluster: random nonce: %w", err)
	}
	if _, err := conn.Write(hello); err != nil {
		return fmt.Errorf("write handshake: %w", err)
	}
	var reply [authNonceLen + authMACLen]byte
	if _, err := io.ReadFull(conn, reply[:]); err != nil {
		return fmt.Errorf("read handshake: %w (a peer with another cluster secret closes the connection)", err)
	}
	nonceD, nonceA := hello[1:], reply[:authNonceLen]
	if !hmac.Equal(reply[authNonceLen:], authMAC(secret, "raftstream-accept", kind, nonceD, nonceA)) {
		return errAuth
	}
	if _, err := conn.Write(authMAC(secret, "raftstream-dial", kind, nonceD, nonceA)); err != nil {
		return fmt.Errorf("write handshake: %w", err)
	}
	return nil
}

// acceptHandshake runs the acceptor's side and returns the connection
// kind. The caller sets the deadline.
func acceptHandshake(conn net.Conn, secret []byte) (byte, error) {
	var hello [1 + authNonceLen]byte
	if _, err := io.ReadFull(conn, hello[:]); err != nil {
		return 0, err
	}
	kind, nonceD := hello[0], hello[1:]
	reply := make([]byte, authNonceLen, authNonceLen+authMACLen)
	if _, err := rand.Read(reply); err != nil {
		return 0, fmt.Errorf("cluster: random nonce: %w", err)
	}
	nonceA := reply[:authNonceLen:authNonceLen]
	reply = append(reply, authMAC(secret, "raftstream-accept", kind, nonceD, nonceA)...)
	if _, err := conn.Write(reply); err != nil {
		return 0, err
	}
	var mac [authMACLen]byte
	if _, err := io.ReadFull(conn, mac[:]); err != nil {
		return 0, err
	}
	if !hmac.Equal(mac[:], authMAC(secret, "raftstream-dial", kind, nonceD, nonceA)) {
		return 0, errAuth
	}
	return kind, nil
}
