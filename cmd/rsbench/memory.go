package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftstream/raftstream/internal/respclient"
)

// memConfig is a memory-mode run.
type memConfig struct {
	addr     string
	entries  int
	clients  int
	pipeline int
	prefix   string
	key      string // "": a fresh key under prefix
	settle   time.Duration
	timeout  time.Duration
	cleanup  bool
}

// memResult is what memory mode measured.
type memResult struct {
	before, after int64 // used_memory in bytes
	entries       int64
	loadTime      time.Duration
}

func (m memResult) perEntry() float64 {
	return float64(m.after-m.before) / float64(m.entries)
}

// runMemory loads cfg.entries entries of three short fields into one
// stream and measures how much used_memory grew.
func runMemory(ctx context.Context, cfg memConfig) (memResult, error) {
	var res memResult
	c, err := dial(ctx, cfg.addr, 2, cfg.timeout)
	if err != nil {
		return res, err
	}
	defer c.Close()
	key := cfg.key
	if key == "" {
		key = fmt.Sprintf("%s:mem:%d", cfg.prefix, time.Now().UnixNano())
	}

	if res.before, err = settledMemory(ctx, c, cfg.settle); err != nil {
		return res, err
	}

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.clients)
	for w := 0; w < cfg.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loadEntries(ctx, cfg, key, &next); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return res, err
	}
	res.loadTime = time.Since(start)

	v, err := c.Do("XLEN", key)
	if err != nil {
		return res, err
	}
	if res.entries, err = strconv.ParseInt(v.Str, 10, 64); err != nil || res.entries != int64(cfg.entries) {
		return res, fmt.Errorf("XLEN %s = %c%q, want %d", key, v.Kind, v.Str, cfg.entries)
	}
	if res.after, err = settledMemory(ctx, c, cfg.settle); err != nil {
		return res, err
	}
	if cfg.cleanup {
		_, _ = c.Do("DEL", key)
	}
	return res, nil
}

// loadEntries adds entries until cfg.entries have been claimed, pipelined.
// Each entry has the same three short fields, as an application's events
// usually do: "type" "click" "user" <n> "n" <i>.
func loadEntries(ctx context.Context, cfg memConfig, key string, next *atomic.Int64) error {
	c, err := dial(ctx, cfg.addr, 2, cfg.timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	for ctx.Err() == nil {
		first := next.Add(int64(cfg.pipeline)) - int64(cfg.pipeline)
		if first >= int64(cfg.entries) {
			return nil
		}
		n := min(int64(cfg.pipeline), int64(cfg.entries)-first)
		for i := first; i < first+n; i++ {
			c.AppendStrings("XADD", key, "*", "type", "click", "user", strconv.FormatInt(i%1000, 10), "n", strconv.FormatInt(i, 10))
		}
		if err := c.Flush(); err != nil {
			return err
		}
		for i := int64(0); i < n; i++ {
			e, err := c.Skip()
			if err != nil {
				return err
			}
			if e != "" {
				return fmt.Errorf("XADD: %s", e)
			}
		}
	}
	return ctx.Err()
}

// settledMemory returns the lowest used_memory seen over the settle
// period. A garbage-collected server's heap figure includes garbage until
// its next collection, so meanwhile the tool asks for one (MEMORY PURGE,
// ignored where unsupported) and makes the server allocate and drop
// buffers (ECHO of 64 KiB), which triggers collections on its own; Redis's
// used_memory is not changed by either.
func settledMemory(ctx context.Context, c *respclient.Conn, settle time.Duration) (int64, error) {
	lowest := int64(-1)
	end := time.Now().Add(settle)
	churn := strings.Repeat("m", 64<<10)
	for first := true; first || time.Now().Before(end); first = false {
		const echoes = 32
		c.AppendStrings("MEMORY", "PURGE")
		for i := 0; i < echoes; i++ {
			c.AppendStrings("ECHO", churn)
		}
		if err := c.Flush(); err != nil {
			return 0, err
		}
		for i := 0; i < echoes+1; i++ {
			if _, err := c.Skip(); err != nil {
				return 0, err
			}
		}
		m, err := usedMemory(c)
		if err != nil {
			return 0, err
		}
		if lowest < 0 || m < lowest {
			lowest = m
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	return lowest, nil
}

// usedMemory reads used_memory from INFO memory.
func usedMemory(c *respclient.Conn) (int64, error) {
	v, err := c.Do("INFO", "memory")
	if err != nil {
		return 0, err
	}
	if v.IsError() {
		return 0, fmt.Errorf("INFO memory: %s", v.Str)
	}
	text := strings.TrimPrefix(v.Str, "txt:")
	for _, line := range strings.Split(text, "\n") {
		if val, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(val, 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory in INFO memory reply %q", text)
}
