package server

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
)

// benchPipelinedXAdd sends XADDs in pipelines of depth from clients
// connections and reads every reply; b.N counts commands.
func benchPipelinedXAdd(b *testing.B, s *Server, clients, depth int) {
	var batch bytes.Buffer
	for i := 0; i < depth; i++ {
		batch.Write(encode("XADD", "bench", "*", "field", "value"))
	}
	req := batch.Bytes()
	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	rounds := (b.N + depth - 1) / depth
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, c := range conns {
		n := rounds / clients
		if i < rounds%clients {
			n++
		}
		wg.Add(1)
		go func(c net.Conn, n int) {
			defer wg.Done()
			br := bufio.NewReaderSize(c, 64<<10)
			for r := 0; r < n; r++ {
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				for j := 0; j < depth; j++ {
					if err := skipBulk(br); err != nil {
						errs <- err
						return
					}
				}
			}
		}(c, n)
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// skipBulk reads one bulk-string reply without allocating.
func skipBulk(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 4 || line[0] != '$' {
		return fmt.Errorf("unexpected reply %q", line)
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil {
		return err
	}
	_, err = br.Discard(n + 2)
	return err
}

// BenchmarkPipelinedXAdd measures XADD pipelined 64 deep through the
// server and a real single Raft node (with fsync): the group-commit path.
func BenchmarkPipelinedXAdd(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			s := startServer(b, Config{}, startNode(b))
			benchPipelinedXAdd(b, s, clients, 64)
		})
	}
}

// BenchmarkPipelinedXAddServerOnly measures the server alone (protocol,
// routing, replies) over an in-memory state without Raft.
func BenchmarkPipelinedXAddServerOnly(b *testing.B) {
	s, _ := startDirect(b, Config{})
	benchPipelinedXAdd(b, s, 1, 64)
}
