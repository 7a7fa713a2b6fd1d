package main

import (
	"context"
	"log/slog"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/console"
)

// startConsole serves the read-only web console (package console) on addr
// and returns a function that stops it and its sampler.
func startConsole(ctx context.Context, addr string, node *cluster.Node, password string, logger *slog.Logger) (stop func(), err error) {
	c := console.New(console.NodeSource(node), console.Options{Password: password, Logger: logger})
	stopHTTP, err := serveHTTP(addr, "web console", c.Handler(), logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		c.Run(ctx)
	}()
	return func() {
		stopHTTP()
		cancel()
		<-sampled
	}, nil
}
