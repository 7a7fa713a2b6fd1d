package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/console"
)

// startConsole serves the read-only web console (package console) on addr
// and returns a function that stops it and its sampler.
func startConsole(ctx context.Context, addr string, node *cluster.Node, password string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the web console on %s: %w", addr, err)
	}
	c := console.New(console.NodeSource(node), console.Options{Password: password, Logger: logger})
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.Run(ctx)
	}()
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("web console stopped", "err", err)
		}
	}()
	logger.Info("web console listening", "addr", ln.Addr().String())
	return func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		wg.Wait()
	}, nil
}
