package ops

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/mark3labs/mcp-go/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/tools"
)

// metrics are the server's Prometheus metrics, on a registry of their own.
// Labels stay bounded: tool names (only the server's tools reach a handler),
// outcomes (tools.Outcomes), HTTP statuses and two retry reasons; never a
// caller or a connection.
type metrics struct {
	reg       *prometheus.Registry
	calls     *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	upstream  *prometheus.CounterVec
	retries   *prometheus.CounterVec
	retryWait *prometheus.CounterVec
	sessions  prometheus.Gauge

	runtime sync.Once // registers the Go and process collectors
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlook_mcp_tool_calls_total",
			Help: "Tool calls answered, by tool and outcome.",
		}, []string{"tool", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "outlook_mcp_tool_call_duration_seconds",
			Help:    "How long tool calls took to answer, waits for the per-client limit and retries included, by tool.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"tool"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlook_mcp_upstream_responses_total",
			Help: "Answers from Nango to the requests of tool calls, by HTTP status (Graph's, through the proxy).",
		}, []string{"status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlook_mcp_upstream_retries_total",
			Help: "Requests to Nango repeated after a wait, by reason: throttled (429) or unavailable (5xx, network).",
		}, []string{"reason"}),
		retryWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outlook_mcp_upstream_retry_wait_seconds_total",
			Help: "Time waited before repeating requests to Nango, by reason.",
		}, []string{"reason"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "outlook_mcp_sessions",
			Help: "MCP sessions open: SSE streams, or the stdio session.",
		}),
	}
	m.reg.MustRegister(m.calls, m.latency, m.upstream, m.retries, m.retryWait, m.sessions)
	return m
}

func (m *metrics) record(rec tools.CallRecord) {
	m.calls.WithLabelValues(rec.Tool, string(rec.Outcome)).Inc()
	m.latency.WithLabelValues(rec.Tool).Observe(rec.Duration.Seconds())
	if rec.Trace == nil {
		return
	}
	for status, n := range rec.Trace.Statuses() {
		m.upstream.WithLabelValues(statusLabel(status)).Add(float64(n))
	}
	for _, r := range rec.Trace.Retries() {
		reason := "unavailable"
		if r.Throttled {
			reason = "throttled"
		}
		m.retries.WithLabelValues(reason).Inc()
		m.retryWait.WithLabelValues(reason).Add(r.Wait.Seconds())
	}
}

// statusLabel keeps the status label to HTTP's codes.
func statusLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status)
}

// watch counts s's sessions through its hooks, and reads client's cached
// connections at each scrape.
func (m *metrics) watch(s *server.MCPServer, client *nango.Client) {
	hooks := s.GetHooks()
	if hooks == nil {
		hooks = &server.Hooks{}
		server.WithHooks(hooks)(s)
	}
	hooks.AddOnRegisterSession(func(_ context.Context, _ server.ClientSession) { m.sessions.Inc() })
	hooks.AddOnUnregisterSession(func(_ context.Context, _ server.ClientSession) { m.sessions.Dec() })
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "outlook_mcp_nango_connections",
		Help: "Nango connections the server holds (granted scopes, limits) in memory.",
	}, func() float64 { return float64(client.CachedConnections()) }))
}

// handler serves the registry. The Go and process collectors join it at the
// first scrape: building them costs more than the rest of start-up's
// metrics (0.1 ms), which a server nobody scrapes need not pay.
func (m *metrics) handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.runtime.Do(func() {
			m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		})
		h.ServeHTTP(w, r)
	})
}
