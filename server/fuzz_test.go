package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/tidwall/redcon"
)

// fuzzSeeds are malformed and edge-case inputs from the protocol tests.
var fuzzSeeds = []string{
	"PING\r\n",
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n",
	"*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$1\r\nv\r\n*4\r\n$6\r\nXRANGE\r\n$1\r\ns\r\n$1\r\n-\r\n$1\r\n+\r\n",
	"HELLO 3\r\nCLIENT INFO\r\nINFO\r\nCOMMAND DOCS\r\n",
	"*0\r\n*-1\r\n\r\n",
	"*1\r\n$-1\r\n",
	"*abc\r\n",
	"*1\r\nx3\r\n",
	"PING \"a\r\n",
	"*1\r\n$4\r\nPINGxx",
	"*1\rX$4\rXPINGab",
	"*1\r\n\x00\r\n",
	"*2147483648\r\n",
	"ECHO \"\\x41\\n\"\r\n",
	"CONFIG SET proto-max-bulk-len 1mb\r\nCONFIG GET *\r\n",
	"SELECT 3\r\nXADD k * a b\r\nXLEN k\r\nQUIT\r\n",
	"CLIENT KILL ID 1\r\nCLIENT LIST\r\n",
}

// FuzzProtocol feeds random bytes through the real connection path — the
// limit scanner, redcon, routing, the engine — of a server backed by an
// in-memory state. The server must not panic (recovered panics are logged
// at error level, which fails the test) and must keep serving other
// clients.
func FuzzProtocol(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	watch := newPanicWatch()
	s, _ := startDirectLogger(f, Config{MaxBulkLen: 1 << 16, ClientQueryBufferLimit: 1 << 20}, slog.New(watch))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		// Writing and reading at once: a reply may be large.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = io.Copy(io.Discard, c)
		}()
		_, _ = c.Write(in)
		_ = c.(*net.TCPConn).CloseWrite()
		<-done
		if n := watch.errors.Load(); n > 0 {
			t.Fatalf("server logged %d errors, last: %s", n, *watch.last.Load())
		}
		probe, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer probe.Close()
		_ = probe.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := probe.Write([]byte("PING\r\n")); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(probe).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("server stopped answering: %q %v", line, err)
		}
	})
}

// FuzzScannerRedcon checks the property the server relies on: whatever
// the client sends, the scanner's output is well-formed RESP that redcon
// parses without error, into exactly the requests the scanner counted.
func FuzzScannerRedcon(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		// The server's default multibulk limit: redcon's parser costs time
		// proportional to the announced count (see Config.MaxMultibulkLen).
		lim := testLimits
		lim.maxMultibulk = DefaultMaxMultibulkLen
		sc := &scanner{limits: func() scanLimits { return lim }, authRequired: func() bool { return false }}
		step := int(chunk%16) + 1
		var out, pending []byte
		requests := 0
		var scanErr error
	feed:
		for i := 0; i < len(in); i += step {
			pending = append(pending, in[i:min(i+step, len(in))]...)
			for {
				n, completeAt, err := sc.scan(pending, &out, true)
				if completeAt >= 0 {
					requests++
				}
				pending = pending[n:]
				if err != nil {
					scanErr = err
					break feed
				}
				if n == 0 || len(pending) == 0 {
					break
				}
			}
		}
		var pe *protoError
		if scanErr != nil && !errors.As(scanErr, &pe) && !errors.Is(scanErr, errQueryBufferLimit) {
			t.Fatalf("unexpected scanner error %v", scanErr)
		}
		rd := redcon.NewReader(bytes.NewReader(out))
		parsed := 0
		for {
			_, err := rd.ReadCommand()
			if err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("redcon rejected scanner output %q: %v", out, err)
			}
			parsed++
		}
		if parsed != requests {
			t.Fatalf("redcon parsed %d requests, scanner emitted %d; output %q", parsed, requests, out)
		}
	})
}
