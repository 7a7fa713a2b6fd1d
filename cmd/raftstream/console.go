package main

import (
	"context"
	"log/slog"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/console"
	"github.com/raftstream/raftstream/server"
)

// startConsole serves the read-only web console (package console) on addr
// and returns a function that stops it and its sampler. Requests are
// checked against the ACL users (httpAuth).
func startConsole(ctx context.Context, addr string, node *cluster.Node, srv *server.Server, logger *slog.Logger) (stop func(), err error) {
	auth := httpAuth(srv, true, console.RequiredCommands...)
	c := console.New(console.NodeSource(node), console.Options{Auth: auth, Logger: logger})
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

// httpAuth checks an HTTP listener's basic-auth credentials against the
// ACL: nothing is asked while the default user needs no password (as a
// RESP client is authenticated at once then); otherwise the user must
// authenticate and be allowed cmds (and, with allKeys, to read every key).
func httpAuth(srv *server.Server, allKeys bool, cmds ...[]string) console.AuthFunc {
	return func(user, pass string, ok bool) int {
		if !srv.HTTPAuthRequired() {
			return 0
		}
		if !ok {
			return 401
		}
		return srv.HTTPAuth(user, pass, allKeys, cmds...)
	}
}
