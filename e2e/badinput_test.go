package e2e

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

// badInput is raw client bytes that are not a well-formed request.
type badInput struct {
	name string
	data string
	// compare: the product must send the same bytes as the reference and
	// close (or keep) the connection the same way. Otherwise the input is
	// one Redis would wait on (e.g. a huge but legal length) and the test
	// only checks that the node survives it.
	compare bool
}

func badInputs() []badInput {
	return []badInput{
		{"bulk length over proto-max-bulk-len", "*1\r\n$600000000\r\n", true},
		{"negative bulk length", "*1\r\n$-5\r\n", true},
		{"non-numeric bulk length", "*1\r\n$abc\r\n", true},
		{"multibulk count over INT_MAX", "*4294967296\r\n", true},
		{"non-numeric multibulk count", "*abc\r\n", true},
		{"missing $ in multibulk", "*1\r\nX\r\n", true},
		{"unbalanced quotes inline", "\"unbalanced\r\n", true},
		{"inline request over 64KB without newline", strings.Repeat("a", 70000), true},
		{"multibulk count line over 64KB", "*" + strings.Repeat("1", 70000), true},
		{"bulk length line over 64KB", "*1\r\n$" + strings.Repeat("1", 70000), true},
		{"good command then protocol error", "PING\r\n*1\r\n$abc\r\n", true},
		{"inline commands", "PING\r\nXLEN s\r\n\r\n\r\nECHO hi\r\n", true},
		{"null multibulk then command", "*-1\r\n*0\r\nPING\r\n", true},
		{"bulk longer than declared", "*1\r\n$4\r\nPINGPONG\r\n", false},
		{"huge legal multibulk count", "*2147483647\r\n$4\r\nXADD\r\n", false},
		{"bulk of exactly proto-max-bulk-len", "*2\r\n$4\r\nECHO\r\n$536870912\r\nabc", false},
		{"many huge arrays", strings.Repeat("*1048576\r\n", 100), false},
		{"binary garbage", "\x00\xff\xfe\x01garbage\x7f\r\n\x1b[2J", false},
	}
}

// TestBadInput sends malformed requests and checks that the node answers
// like Redis (same error bytes, same connection close) and keeps serving
// other connections.
func TestBadInput(t *testing.T) {
	ref := StartRedis(t)
	prod := StartNode(t)
	bystander := dialRaw(t, prod.Addr)

	for _, in := range badInputs() {
		t.Run(in.name, func(t *testing.T) {
			if !in.compare {
				sendBad(t, prod.Addr, in.data, true, 0)
				checkServing(t, prod, bystander)
				return
			}
			want, wantClosed := sendBad(t, ref.Addr, in.data, false, 0)
			got, gotClosed := sendBad(t, prod.Addr, in.data, false, len(want))
			if !bytes.Equal(got, want) || gotClosed != wantClosed {
				t.Errorf("input %q\n  got:  %s (closed=%v)\n  want: %s (closed=%v)",
					truncate(in.data, 60), showResp(got), gotClosed, showResp(want), wantClosed)
			}
			checkServing(t, prod, bystander)
		})
	}

	t.Run("random garbage", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 200; i++ {
			n := 1 + rng.IntN(512)
			b := make([]byte, n)
			for j := range b {
				// Bias towards RESP punctuation so the parser gets deep.
				switch rng.IntN(4) {
				case 0:
					b[j] = "*$\r\n:+-0123456789"[rng.IntN(17)]
				default:
					b[j] = byte(rng.IntN(256))
				}
			}
			sendBad(t, prod.Addr, string(b), true, 0)
			if i%20 == 0 {
				checkServing(t, prod, bystander)
			}
		}
		checkServing(t, prod, bystander)
	})
}

// sendBad writes data on a new connection and collects what the server
// sends back until it closes the connection or goes quiet. With hangUp the
// client closes right after writing (for inputs a server may wait on).
// expect is how many bytes the reference server sent: reading waits up to
// ioTimeout for that many before a short quiet period decides, so a slow
// but correct server does not look silent.
func sendBad(t testing.TB, addr, data string, hangUp bool, expect int) ([]byte, bool) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write([]byte(data)); err != nil && !hangUp {
		// The server may close before reading everything; what it sent
		// before closing still counts.
		t.Logf("write: %v", err)
	}
	if hangUp {
		return nil, true
	}
	var out []byte
	if expect > 0 {
		var closed bool
		out, closed = readAtLeast(c, expect, ioTimeout)
		if closed {
			return out, true
		}
	}
	more, closed := readUntilClosed(c, time.Second)
	return append(out, more...), closed
}

// readAtLeast reads until n bytes arrived, the connection closed, or
// timeout passed.
func readAtLeast(c net.Conn, n int, timeout time.Duration) ([]byte, bool) {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var out []byte
	buf := make([]byte, 4096)
	for len(out) < n {
		k, err := c.Read(buf)
		out = append(out, buf[:k]...)
		if err != nil {
			var ne net.Error
			return out, !(errors.As(err, &ne) && ne.Timeout())
		}
	}
	return out, false
}

// checkServing verifies the node is alive and serves both a connection
// that was open all along and a new one, reads and writes.
func checkServing(t testing.TB, p *Proc, bystander *rawConn) {
	t.Helper()
	p.RequireAlive(t)
	if got := bystander.MustDo(t, "PING"); string(got) != "+PONG\r\n" {
		t.Fatalf("bystander PING: %s", showResp(got))
	}
	fresh := dialRaw(t, p.Addr)
	defer fresh.Close()
	if got := fresh.MustDo(t, "XADD", "alive", "*", "f", "v"); isError(got) {
		t.Fatalf("XADD after bad input: %s", showResp(got))
	}
	if got := fresh.MustDo(t, "XLEN", "alive"); isError(got) {
		t.Fatalf("XLEN after bad input: %s", showResp(got))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
