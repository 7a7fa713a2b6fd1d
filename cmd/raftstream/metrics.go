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
// a function that stops it. With a password (--requirepass) a scrape needs
// HTTP basic authentication, as the web console does: the series name
// keys and groups.
func startMetrics(addr string, node *cluster.Node, srv *server.Server, password string, logger *slog.Logger) (stop func(), err error) {
	h := metrics.Handler(metrics.NodeSource(node, srv), metrics.Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if console.Authorized(w, r, password) {
			h.ServeHTTP(w, r)
		}
	}))
	return serveHTTP(addr, "metrics", mux, logger)
}
