package main

import (
	"log/slog"
	"net/http"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/metrics"
	"github.com/raftstream/raftstream/server"
)

// startMetrics serves the Prometheus exporter (package metrics) at
// /metrics on addr, on its own mux so nothing else is exposed, and returns
// a function that stops it.
func startMetrics(addr string, node *cluster.Node, srv *server.Server, logger *slog.Logger) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(metrics.NodeSource(node, srv), metrics.Options{}))
	return serveHTTP(addr, "metrics", mux, logger)
}
