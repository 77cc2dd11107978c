package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/ops"
	"github.com/outlook-mcp/outlook-mcp/sim"
	"github.com/outlook-mcp/outlook-mcp/tools"
)

type bench struct {
	sim      *sim.Sim
	obs      *ops.Observer
	audit    *bytes.Buffer // written before each call answers
	client   *client.Client
	nango    *nango.Client
	nangoKey string
}

// newBench is the real server on the simulator, observed, driven in process.
func newBench(t *testing.T, serverKey string) *bench {
	t.Helper()
	fixture, err := os.ReadFile("../testdata/mailbox.json")
	require.NoError(t, err)
	s, err := sim.New(fixture, sim.Options{Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	if serverKey == "" {
		serverKey = sim.DefaultSecretKey
	}
	nc, err := nango.New(nango.Config{Host: "https://nango.test", SecretKey: serverKey, IntegrationID: "outlook", HTTPClient: s.Client(), Backoff: time.Millisecond})
	require.NoError(t, err)
	b := &bench{sim: s, audit: &bytes.Buffer{}, nango: nc, nangoKey: serverKey}
	b.obs = ops.New(b.audit, nil)
	srv := tools.NewServer("test", tools.Deps{
		Nango:             nc,
		DefaultConnection: "sandbox",
		Observe:           b.obs.Observe,
	}, tools.All())
	b.obs.Watch(srv, nc)
	b.client, err = client.NewInProcessClient(srv)
	require.NoError(t, err)
	require.NoError(t, b.client.Start(context.Background()))
	_, err = b.client.Initialize(context.Background(), mcp.InitializeRequest{Params: mcp.InitializeParams{ProtocolVersion: mcp.LATEST_PROTOCOL_VERSION}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.client.Close() })
	return b
}

func (b *bench) call(t *testing.T, tool string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := b.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	require.NoError(t, err)
	return res
}

// lines decodes the audit log, one JSON object per line.
func (b *bench) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.audit.String()))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "an audit line is one JSON object: %q", sc.Text())
		out = append(out, m)
	}
	return out
}

func TestAuditLinesHaveTheDocumentedKeys(t *testing.T) {
	b := newBench(t, "")
	b.call(t, "search_mail", map[string]any{"limit": 1})
	b.call(t, "search_mail", map[string]any{"limit": "many"})
	b.call(t, "get_message", map[string]any{"id": "AAMkAGI2TG93AAA="})
	b.sim.Inject(sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 429, RetryAfter: "0", Times: 10})
	b.call(t, "search_mail", nil)

	lines := b.lines(t)
	require.Len(t, lines, 4, "one line per call:\n%s", b.audit.String())
	for i, want := range []struct {
		tool, outcome string
		requestIDs    int
	}{
		{"search_mail", "ok", 3}, // and the Junk Email folder's id and the user's time zone, looked up once
		{"search_mail", "input_error", 0},
		{"get_message", "not_found", 1},
		{"search_mail", "throttled", 4}, // the first try and 3 retries
	} {
		l := lines[i]
		keys := []string{"time", "caller", "connection", "tool", "outcome", "duration_ms"}
		if want.requestIDs > 0 {
			keys = append(keys, "request_ids")
		}
		assert.ElementsMatch(t, keys, mapKeys(l), "line %d", i)
		assert.Equal(t, want.tool, l["tool"])
		assert.Equal(t, want.outcome, l["outcome"])
		assert.Equal(t, "sandbox", l["connection"])
		assert.Equal(t, "", l["caller"])
		when, err := time.Parse(time.RFC3339Nano, l["time"].(string))
		require.NoError(t, err)
		assert.WithinDuration(t, time.Now(), when, time.Minute)
		assert.GreaterOrEqual(t, l["duration_ms"].(float64), 0.0)
		if want.requestIDs > 0 {
			assert.Len(t, l["request_ids"], want.requestIDs)
		}
	}
}

func mapKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// scrape reads the metrics as Prometheus would.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// sample is the value of the sample written exactly as name{labels}, or -1.
func sample(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsCountCallsOutcomesAndUpstream(t *testing.T) {
	b := newBench(t, "")
	for range 3 {
		b.call(t, "search_mail", map[string]any{"limit": 1})
	}
	b.call(t, "get_message", map[string]any{"id": "AAMkAGI2TG93AAA="})
	b.sim.Inject(sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 429, RetryAfter: "0", Times: 2})
	b.call(t, "search_mail", nil)

	text := scrape(t, b.obs.Metrics())
	assert.Equal(t, 4.0, sample(text, `outlook_mcp_tool_calls_total{outcome="ok",tool="search_mail"}`), text)
	assert.Equal(t, 1.0, sample(text, `outlook_mcp_tool_calls_total{outcome="not_found",tool="get_message"}`))
	assert.Equal(t, 4.0, sample(text, `outlook_mcp_tool_call_duration_seconds_count{tool="search_mail"}`))
	assert.Equal(t, 2.0, sample(text, `outlook_mcp_upstream_responses_total{status="429"}`))
	assert.Equal(t, 1.0, sample(text, `outlook_mcp_upstream_responses_total{status="404"}`))
	assert.GreaterOrEqual(t, sample(text, `outlook_mcp_upstream_responses_total{status="200"}`), 5.0, "4 listings and the scope fetch")
	assert.Equal(t, 2.0, sample(text, `outlook_mcp_upstream_retries_total{reason="throttled"}`))
	assert.Positive(t, sample(text, `outlook_mcp_upstream_retry_wait_seconds_total{reason="throttled"}`))
	assert.Equal(t, 1.0, sample(text, `outlook_mcp_nango_connections`))
	assert.Equal(t, 1.0, sample(text, `outlook_mcp_sessions`), "the in-process client's session")
	assert.Contains(t, text, "go_goroutines ")
	assert.Contains(t, text, "process_start_time_seconds ")
	assert.NotContains(t, text, `connection="`, "no connection ids as labels")
	assert.NotContains(t, text, "sandbox", "no connection ids at all")

	require.NoError(t, b.client.Close())
	assert.Eventually(t, func() bool { return sample(scrape(t, b.obs.Metrics()), `outlook_mcp_sessions`) == 0 }, 5*time.Second, 10*time.Millisecond,
		"a closed session is no longer counted")
}

func TestReadyAgainstTheSimulator(t *testing.T) {
	b := newBench(t, "")
	rec := httptest.NewRecorder()
	b.obs.Ready().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ready\n", rec.Body.String())
	assert.Empty(t, b.sim.Requests()[0].NangoHeader.Get("Connection-Id"), "no connection is read")
}

func TestNotReadyWithABadKeyAndTheKeyIsNotEchoed(t *testing.T) {
	const wrongKey = "0b9c5a3e-1f2d-4e6a-8b7c-9d0e1f2a3b4c"
	b := newBench(t, wrongKey)
	rec := httptest.NewRecorder()
	b.obs.Ready().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "not ready: Nango rejected the server's secret key (401 unknown_account)")
	assert.NotContains(t, rec.Body.String(), wrongKey)
	assert.NotContains(t, rec.Body.String(), wrongKey[:8])
}
