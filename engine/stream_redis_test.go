package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file compares Stream with a real redis-server when one is installed
// (skipped otherwise, and under -short): node boundaries (XINFO
// radix-tree-keys) and the number of entries XTRIM removes depend on Redis's
// listpack sizes, which Stream models. Redis 7.0 and 8 share the node and
// trim logic compared here.

// redisConn is a minimal RESP2 client for the comparison.
type redisConn struct {
	c net.Conn
	r *bufio.Reader
}

type redisError string

func (e redisError) Error() string { return string(e) }

func (c *redisConn) do(args ...string) (any, error) {
	buf := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write(buf); err != nil {
		return nil, err
	}
	return c.read()
}

// pipeline sends all commands at once and returns the last reply.
func (c *redisConn) pipeline(cmds [][]string) (any, error) {
	var buf []byte
	for _, args := range cmds {
		buf = fmt.Appendf(buf, "*%d\r\n", len(args))
		for _, a := range args {
			buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := c.c.Write(buf); err != nil {
		return nil, err
	}
	var last any
	for range cmds {
		v, err := c.read()
		if err != nil {
			return nil, err
		}
		last = v
	}
	return last, nil
}

func (c *redisConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short reply %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, redisError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := readFull(c.r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := c.read()
			if err != nil && !errors.As(err, new(redisError)) {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// startRedis runs a private redis-server on a unix socket for the test.
func startRedis(t *testing.T) *redisConn {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping redis-server comparison in -short mode")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	sock := filepath.Join(dir, "r.sock")
	ctx, cancel := context.WithCancel(context.Background())
	// DEBUG OBJECT (for serializedlength) needs the debug command, and
	// serializedlength is only a plain sum of listpack sizes without
	// RDB compression.
	cmd := exec.CommandContext(ctx, bin, "--port", "0", "--unixsocket", sock,
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--enable-debug-command", "local", "--rdbcompression", "no")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return &redisConn{c: c, r: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustDo(t *testing.T, c *redisConn, args ...string) any {
	t.Helper()
	v, err := c.do(args...)
	if err != nil {
		t.Fatalf("redis %v: %v", args, err)
	}
	return v
}

// xinfo returns XINFO STREAM fields as a map.
func xinfo(t *testing.T, c *redisConn, key string) map[string]any {
	t.Helper()
	arr := mustDo(t, c, "XINFO", "STREAM", key).([]any)
	m := map[string]any{}
	for i := 0; i+1 < len(arr); i += 2 {
		m[arr[i].(string)] = arr[i+1]
	}
	return m
}

// rdbLenSize is the size of Redis's rdbSaveLen encoding of v.
func rdbLenSize(v uint64) int64 {
	switch {
	case v < 1<<6:
		return 1
	case v < 1<<14:
		return 2
	case v <= 1<<32-1:
		return 5
	}
	return 9
}

// serializedLength is what Redis's DEBUG OBJECT reports as serializedlength
// for a stream without consumer groups and without RDB compression: the
// RDB encoding, in which every node is its 16-byte key and its listpack.
// Matching it checks the listpack size model node by node.
func serializedLength(s *Stream) int64 {
	n := rdbLenSize(uint64(s.NodeCount()))
	s.tree.Scan(func(nd node) bool {
		lp := nd.lpBytes()
		n += 1 + 16 + rdbLenSize(uint64(lp)) + lp
		return true
	})
	first, _ := s.FirstID()
	for _, v := range []uint64{uint64(s.Len()), s.last.Ms, s.last.Seq, first.Ms, first.Seq,
		s.maxDeleted.Ms, s.maxDeleted.Seq, s.entriesAdded, 0} {
		n += rdbLenSize(v)
	}
	return n
}

// redisSerializedLength reads serializedlength from DEBUG OBJECT.
func redisSerializedLength(t *testing.T, c *redisConn, key string) int64 {
	t.Helper()
	out := mustDo(t, c, "DEBUG", "OBJECT", key).(string)
	i := strings.Index(out, "serializedlength:")
	if i < 0 {
		t.Fatalf("DEBUG OBJECT: %q", out)
	}
	f := strings.Fields(out[i+len("serializedlength:"):])
	v, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatalf("DEBUG OBJECT: %q", out)
	}
	return v
}

// redisValue returns a field value for the comparison, mixing sizes and
// integer-looking strings so every listpack encoding is exercised.
func redisValue(rng *rand.Rand) string {
	switch rng.IntN(9) {
	case 0:
		return strconv.Itoa(rng.IntN(128))
	case 1:
		return strconv.Itoa(rng.IntN(1<<20) - 1<<19)
	case 2:
		switch rng.IntN(4) {
		case 0:
			return strconv.FormatInt(-rng.Int64(), 10)
		case 1:
			return "-9223372036854775808"
		case 2:
			return "9223372036854775808" // overflows int64: a string
		}
		return strconv.FormatInt(rng.Int64(), 10)
	case 3:
		return "0" + strconv.Itoa(rng.IntN(100)) // not canonical: a string
	case 4:
		return string(make([]byte, 60+rng.IntN(10))) // around the 6-bit length limit
	case 5:
		return string(make([]byte, 100+rng.IntN(200)))
	case 6:
		return string(make([]byte, 4090+rng.IntN(10))) // around the 12-bit limit
	case 7:
		return ""
	}
	return fmt.Sprintf("v%d", rng.IntN(1000))
}

func TestRedisCompat(t *testing.T) {
	c := startRedis(t)
	configs := []NodeLimits{
		{MaxBytes: 4096, MaxEntries: 100}, // Redis defaults
		{MaxBytes: 4096, MaxEntries: 10},
		{MaxBytes: 500, MaxEntries: 0},
		{MaxBytes: 0, MaxEntries: 7},
		{MaxBytes: 200, MaxEntries: 3},
	}
	for ci, lim := range configs {
		for seed := uint64(0); seed < 4; seed++ {
			name := fmt.Sprintf("bytes=%d,entries=%d/seed=%d", lim.MaxBytes, lim.MaxEntries, seed)
			t.Run(name, func(t *testing.T) {
				mustDo(t, c, "CONFIG", "SET", "stream-node-max-bytes", strconv.FormatInt(lim.MaxBytes, 10))
				mustDo(t, c, "CONFIG", "SET", "stream-node-max-entries", strconv.FormatInt(lim.MaxEntries, 10))
				key := fmt.Sprintf("s%d-%d", ci, seed)
				compareOps(t, c, key, lim, rand.New(rand.NewPCG(seed, uint64(ci))))
			})
		}
	}
}

// compareOps runs the same random operations on Redis and on a Stream and
// compares replies, node counts and contents.
func compareOps(t *testing.T, c *redisConn, key string, lim NodeLimits, rng *rand.Rand) {
	s := NewStream()
	id := ID{1, 0}
	var ids []ID
	for op := 0; op < 400; op++ {
		switch r := rng.IntN(20); {
		case r < 13: // XADD
			if rng.IntN(3) == 0 {
				id = ID{id.Ms + uint64(rng.IntN(3)) + 1, uint64(rng.IntN(2))}
			} else {
				id.Seq++
			}
			fields := []string{"a", "b", "c"}
			if rng.IntN(5) == 0 {
				fields = []string{"x"}
			}
			args := []string{"XADD", key, id.String()}
			var fv [][]byte
			for _, f := range fields {
				v := redisValue(rng)
				args = append(args, f, v)
				fv = append(fv, []byte(f), []byte(v))
			}
			mustDo(t, c, args...)
			s.Append(id, fv, lim)
			ids = append(ids, id)
		case r < 16: // XDEL
			if len(ids) == 0 {
				continue
			}
			victim := ids[rng.IntN(len(ids))]
			want := mustDo(t, c, "XDEL", key, victim.String()).(int64)
			if got := s.Delete(victim); got != (want == 1) {
				t.Fatalf("op %d XDEL %v: redis %d, stream %v", op, victim, want, got)
			}
		default: // XTRIM
			args := []string{"XTRIM", key}
			a := TrimArgs{By: TrimByMaxLen}
			if rng.IntN(2) == 0 {
				a.MaxLen = int64(rng.IntN(int(s.Len()) + 5))
				args = append(args, "MAXLEN")
			} else {
				a.By = TrimByMinID
				if len(ids) > 0 {
					a.MinID = ids[rng.IntN(len(ids))]
				}
				args = append(args, "MINID")
			}
			a.Approx = rng.IntN(2) == 0
			if a.Approx {
				args = append(args, "~")
			} else {
				args = append(args, "=")
			}
			if a.By == TrimByMaxLen {
				args = append(args, strconv.FormatInt(a.MaxLen, 10))
			} else {
				args = append(args, a.MinID.String())
			}
			if a.Approx {
				a.Limit = int64(rng.IntN(40))
				args = append(args, "LIMIT", strconv.FormatInt(a.Limit, 10))
			}
			want := mustDo(t, c, args...).(int64)
			if got := s.Trim(a); got != want {
				t.Fatalf("op %d %v: redis removed %d, stream %d", op, args, want, got)
			}
		}
		if op%20 == 19 {
			compareState(t, c, key, s, op)
		}
	}
	compareState(t, c, key, s, -1)
}

func compareState(t *testing.T, c *redisConn, key string, s *Stream, op int) {
	t.Helper()
	info := xinfo(t, c, key)
	if got, want := int64(s.NodeCount()), info["radix-tree-keys"].(int64); got != want {
		t.Fatalf("after op %d: %d nodes, redis radix-tree-keys %d", op, got, want)
	}
	if got, want := s.RadixTreeNodes(), info["radix-tree-nodes"].(int64); got != want {
		t.Fatalf("after op %d: %d radix tree nodes, redis radix-tree-nodes %d", op, got, want)
	}
	if got, want := serializedLength(s), redisSerializedLength(t, c, key); got != want {
		t.Fatalf("after op %d: serialized length %d, redis %d (listpack sizes differ)", op, got, want)
	}
	if got, want := s.Len(), info["length"].(int64); got != want {
		t.Fatalf("after op %d: length %d, redis %d", op, got, want)
	}
	first, _ := s.FirstID()
	if got, want := first.String(), info["recorded-first-entry-id"].(string); got != want {
		t.Fatalf("after op %d: first ID %s, redis %s", op, got, want)
	}
	if got, want := s.MaxDeletedID().String(), info["max-deleted-entry-id"].(string); got != want {
		t.Fatalf("after op %d: max deleted %s, redis %s", op, got, want)
	}
	entries := mustDo(t, c, "XRANGE", key, "-", "+").([]any)
	i := 0
	s.Range(MinID, MaxID, false, func(id ID, fv [][]byte) bool {
		e := entries[i].([]any)
		if e[0].(string) != id.String() {
			t.Fatalf("after op %d: entry %d is %v, redis %v", op, i, id, e[0])
		}
		items := e[1].([]any)
		for j, b := range fv {
			if items[j].(string) != string(b) {
				t.Fatalf("after op %d: entry %v item %d differs", op, id, j)
			}
		}
		i++
		return true
	})
	if i != len(entries) {
		t.Fatalf("after op %d: %d entries, redis %d", op, i, len(entries))
	}
}

// TestRedisNodeBoundaries sweeps stream-node-max-bytes one byte at a time
// over fixed workloads and compares node counts and the exact sum of
// listpack sizes (serializedlength): a one-byte error in the size model
// shows up in one or the other.
func TestRedisNodeBoundaries(t *testing.T) {
	c := startRedis(t)
	mustDo(t, c, "CONFIG", "SET", "stream-node-max-entries", "0")
	type step struct {
		del bool // XDEL the entry added n steps ago instead of adding
		fv  []string
	}
	mixed := func() []step {
		rng := rand.New(rand.NewPCG(7, 7))
		var steps []step
		for i := 0; i < 40; i++ {
			fv := []string{"a", redisValue(rng), "b", redisValue(rng)}
			if i%7 == 3 {
				fv = []string{"other", strconv.Itoa(i)}
			}
			steps = append(steps, step{fv: fv})
		}
		return steps
	}
	// Entries of about 10 listpack bytes: nodes near 1300 bytes hold about
	// 128 entries, so the count element grows to two bytes right where the
	// sweep moves the boundary.
	count128 := func() []step {
		var steps []step
		for i := 0; i < 300; i++ {
			steps = append(steps, step{fv: []string{"f", "1"}})
		}
		return steps
	}
	// 250 entries in one node of about 3000 bytes, 140 of them deleted (the
	// deleted element takes two bytes), then appends until the node closes.
	deleted128 := func() []step {
		var steps []step
		for i := 0; i < 250; i++ {
			steps = append(steps, step{fv: []string{"f", "1"}})
		}
		for i := 0; i < 140; i++ {
			steps = append(steps, step{del: true})
		}
		for i := 0; i < 80; i++ {
			steps = append(steps, step{fv: []string{"f", "2"}})
		}
		return steps
	}
	for _, wl := range []struct {
		name     string
		steps    []step
		from, to int64
	}{
		{"mixed", mixed(), 20, 700},
		{"count128", count128(), 1220, 1420},
		{"deleted128", deleted128(), 2960, 3300},
	} {
		t.Run(wl.name, func(t *testing.T) {
			for maxBytes := wl.from; maxBytes <= wl.to; maxBytes++ {
				mustDo(t, c, "CONFIG", "SET", "stream-node-max-bytes", strconv.FormatInt(maxBytes, 10))
				key := fmt.Sprintf("%s-%d", wl.name, maxBytes)
				lim := NodeLimits{MaxBytes: maxBytes}
				s := NewStream()
				var ids []ID
				var cmds [][]string
				nextDel := 0
				for i, st := range wl.steps {
					if st.del {
						victim := ids[nextDel]
						nextDel++
						cmds = append(cmds, []string{"XDEL", key, victim.String()})
						s.Delete(victim)
						continue
					}
					id := ID{uint64(i/3 + 1), uint64(i % 3)}
					cmds = append(cmds, append([]string{"XADD", key, id.String()}, st.fv...))
					fv := make([][]byte, len(st.fv))
					for j, f := range st.fv {
						fv[j] = []byte(f)
					}
					s.Append(id, fv, lim)
					ids = append(ids, id)
				}
				if _, err := c.pipeline(cmds); err != nil {
					t.Fatalf("max-bytes %d: %v", maxBytes, err)
				}
				want := xinfo(t, c, key)["radix-tree-keys"].(int64)
				if got := int64(s.NodeCount()); got != want {
					t.Fatalf("max-bytes %d: %d nodes, redis %d", maxBytes, got, want)
				}
				if got, want := serializedLength(s), redisSerializedLength(t, c, key); got != want {
					t.Fatalf("max-bytes %d: serialized length %d, redis %d", maxBytes, got, want)
				}
				mustDo(t, c, "DEL", key)
			}
		})
	}
}
