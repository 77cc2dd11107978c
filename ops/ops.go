// Package ops is what an operator sees of the server: one audit line per
// tool call, Prometheus metrics, and readiness. It learns of calls through
// tools.Deps.Observe and never sees their arguments or results.
package ops

import (
	"context"
	"io"
	"log/slog"
	"net/http"

	"github.com/mark3labs/mcp-go/server"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/tools"
)

// Observer writes the audit log and keeps the metrics of one server.
type Observer struct {
	audit   *audit
	metrics *metrics
	ready   http.Handler
}

// New audits to w (nil: no audit log) and starts the metrics.
func New(w io.Writer, logger *slog.Logger) *Observer {
	o := &Observer{metrics: newMetrics()}
	if w != nil {
		o.audit = newAudit(w, logger)
	}
	return o
}

// Observe is a tools.Deps.Observe: the call's audit line and metrics.
func (o *Observer) Observe(_ context.Context, rec tools.CallRecord) {
	if o.audit != nil {
		o.audit.write(rec)
	}
	o.metrics.record(rec)
}

// Watch counts s's sessions and client's cached connections, and checks
// client's key for readiness.
func (o *Observer) Watch(s *server.MCPServer, client *nango.Client) {
	o.metrics.watch(s, client)
	o.ready = newReadiness(client.CheckKey)
}

// Metrics serves the metrics in Prometheus' text format.
func (o *Observer) Metrics() http.Handler { return o.metrics.handler() }

// Ready serves /readyz: 200 "ready", or 503 with the reason; nil before Watch.
func (o *Observer) Ready() http.Handler { return o.ready }
