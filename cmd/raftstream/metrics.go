package main

import (
	"log/slog"
	"net/http"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/console"
	"github.com/raftstream/raftstream/metrics"
	"github.com/raftstream/raftstream/server"
)

// startMetrics serves the Prometheus exporter (package metrics) at
// /metrics on addr, on its own mux so nothing else is exposed, and returns
// a function that stops it. While the default user has a password a
// scrape needs HTTP basic authentication as an ACL user allowed INFO, as
// the web console does: the series name keys and groups.
func startMetrics(addr string, node *cluster.Node, srv *server.Server, logger *slog.Logger) (stop func(), err error) {
	h := metrics.Handler(metrics.NodeSource(node, srv), metrics.Options{})
	auth := httpAuth(srv, false, []string{"INFO"})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if console.Guard(w, r, auth) {
			h.ServeHTTP(w, r)
		}
	}))
	return serveHTTP(addr, "metrics", mux, logger)
}
