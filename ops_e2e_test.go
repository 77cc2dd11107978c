package main

// The operator's view end to end: the audit log, /metrics and /readyz over
// the real HTTP listener, the --metrics-addr listener, and that neither the
// audit log nor the logs ever hold what a user wrote.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get sends a GET with optional headers (key, value pairs).
func get(t *testing.T, url string, kv ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(callCtx(t), http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metrics scrapes url and parses the exposition as Prometheus does.
func metrics(t *testing.T, url string, kv ...string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := get(t, url, kv...)
	require.Equal(t, http.StatusOK, status, body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err)
	return families
}

// value is the counter, gauge or histogram count of the series of name whose
// labels include labels (key, value pairs); -1 when there is none.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// auditLines decodes an audit log.
func auditLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "not a JSON audit line: %q", sc.Text())
		out = append(out, m)
	}
	return out
}

const opsToken = "0123456789abcdef0123456789abcdef"

func TestE2EMetricsCountTheCallsMade(t *testing.T) {
	srv := startHTTPServer(t, setup{}, opsToken)
	auth := []string{"Authorization", "Bearer " + opsToken}
	sse := &env{transport: "sse", c: connectHTTP(t, "sse", "mcp-go", srv.base, opsToken), sim: srv.sim}
	streamable := &env{transport: "http", c: connectHTTP(t, "http", "go-sdk", srv.base, opsToken), sim: srv.sim}
	for range 3 {
		sse.ok(t, "get_profile", nil)
		streamable.ok(t, "search_mail", map[string]any{"limit": 1})
	}
	streamable.fails(t, "search_mail", map[string]any{"limit": "many"})
	sse.fails(t, "get_message", map[string]any{"id": "AAMkAGI2TG93AAA="})

	m := metrics(t, srv.base+"/metrics", auth...)
	assert.Equal(t, 3.0, value(m, "outlook_mcp_tool_calls_total", "tool", "get_profile", "outcome", "ok"))
	assert.Equal(t, 3.0, value(m, "outlook_mcp_tool_calls_total", "tool", "search_mail", "outcome", "ok"))
	assert.Equal(t, 1.0, value(m, "outlook_mcp_tool_calls_total", "tool", "search_mail", "outcome", "input_error"))
	assert.Equal(t, 1.0, value(m, "outlook_mcp_tool_calls_total", "tool", "get_message", "outcome", "not_found"))
	assert.Equal(t, 4.0, value(m, "outlook_mcp_tool_call_duration_seconds", "tool", "search_mail"))
	assert.Equal(t, 1.0, value(m, "outlook_mcp_upstream_responses_total", "status", "404"))
	assert.Positive(t, value(m, "outlook_mcp_upstream_responses_total", "status", "200"))
	assert.Equal(t, 1.0, value(m, "outlook_mcp_sessions"), "the SSE stream; stateless streamable HTTP keeps no session")
	assert.Equal(t, 1.0, value(m, "outlook_mcp_nango_connections"))
	assert.Positive(t, value(m, "go_goroutines"))

	lines := auditLines(t, srv.audit.String())
	require.Len(t, lines, 8, "one audit line per call")
	outcomes := map[string]int{}
	for _, l := range lines {
		outcomes[l["tool"].(string)+" "+l["outcome"].(string)]++
		assert.Equal(t, "sandbox", l["connection"])
	}
	assert.Equal(t, map[string]int{"get_profile ok": 3, "search_mail ok": 3, "search_mail input_error": 1, "get_message not_found": 1}, outcomes)

	require.NoError(t, sse.c.close())
	assert.Eventually(t, func() bool { return value(metrics(t, srv.base+"/metrics", auth...), "outlook_mcp_sessions") == 0 },
		callTimeout, 20*time.Millisecond, "a closed stream is no longer counted")
}

func TestE2EMetricsAreGuardedLikeTheMCPEndpoints(t *testing.T) {
	srv := startHTTPServer(t, setup{}, opsToken)
	for _, tc := range []struct {
		name string
		kv   []string
		want int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"a wrong token", []string{"Authorization", "Bearer " + strings.Repeat("x", len(opsToken))}, http.StatusUnauthorized},
		{"a foreign web page", []string{"Authorization", "Bearer " + opsToken, "Origin", "https://attacker.example"}, http.StatusForbidden},
		{"the token", []string{"Authorization", "Bearer " + opsToken}, http.StatusOK},
	} {
		status, body := get(t, srv.base+"/metrics", tc.kv...)
		assert.Equal(t, tc.want, status, "%s: %s", tc.name, body)
		if tc.want != http.StatusOK {
			assert.NotContains(t, body, "outlook_mcp_", tc.name)
		}
	}
	// A page whose DNS name was rebound to 127.0.0.1.
	status, _, body := rawRequest(t, "GET", srv.base+"/metrics", "attacker.example", "Bearer "+opsToken, "")
	assert.Equal(t, http.StatusForbidden, status, body)

	// Without a token (a loopback listener), the Origin check still holds.
	open := startHTTPServer(t, setup{}, "")
	status, _ = get(t, open.base+"/metrics", "Origin", "https://attacker.example")
	assert.Equal(t, http.StatusForbidden, status)
	status, _ = get(t, open.base+"/metrics")
	assert.Equal(t, http.StatusOK, status)
}

func TestE2EReadyz(t *testing.T) {
	srv := startHTTPServer(t, setup{}, opsToken)
	status, body := get(t, srv.base+"/readyz")
	assert.Equal(t, http.StatusOK, status, "probes need no token")
	assert.Equal(t, "ready\n", body)
	for range 20 {
		get(t, srv.base+"/readyz")
	}
	assert.Len(t, srv.sim.Requests(), 1, "answers are reused: probes cannot hammer Nango")

	const wrongKey = "0b9c5a3e-1f2d-4e6a-8b7c-9d0e1f2a3b4c"
	bad := startHTTPServer(t, setup{secretKey: wrongKey}, opsToken)
	status, body = get(t, bad.base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "Nango rejected the server's secret key")
	assert.NotContains(t, body, wrongKey)
	status, _ = get(t, bad.base+"/healthz")
	assert.Equal(t, http.StatusOK, status, "/healthz stays cheap: it asks nobody")
}

// TestRunMetricsAddr: --metrics-addr moves /metrics to a listener of its own.
func TestRunMetricsAddr(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &notifyWriter{re: regexp.MustCompile(`(?s)msg="metrics listening" addr=(\S+).*msg=listening addr=`), hit: make(chan string, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"},
			getenv(nil), strings.NewReader(""), io.Discard, stderr)
	}()
	var metricsAddr string
	select {
	case metricsAddr = <-stderr.hit:
	case code := <-done:
		t.Fatalf("run exited %d:\n%s", code, stderr.String())
	case <-time.After(callTimeout):
		t.Fatalf("not listening:\n%s", stderr.String())
	}
	mainAddr := regexp.MustCompile(`msg=listening addr=(\S+)`).FindStringSubmatch(stderr.String())[1]

	assert.Positive(t, value(metrics(t, "http://"+metricsAddr+"/metrics"), "go_goroutines"))
	status, body := get(t, "http://"+metricsAddr+"/readyz")
	assert.Equal(t, http.StatusOK, status, body)
	status, _ = get(t, "http://"+mainAddr+"/metrics")
	assert.Equal(t, http.StatusNotFound, status, "not on the MCP listener as well")
	status, _ = get(t, "http://"+mainAddr+"/readyz")
	assert.Equal(t, http.StatusOK, status)
	http.DefaultClient.CloseIdleConnections()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(callTimeout):
		t.Fatal("run did not return")
	}
}

func TestRunAuditsToStderrByDefault(t *testing.T) {
	in := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_profile","arguments":{}}}
`
	code, stdout, stderr := runCmd(t, []string{"--sandbox"}, nil, in)
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stdout, `"outcome"`, "stdout is the protocol's alone")
	var audit []string
	for line := range strings.Lines(stderr) {
		if strings.HasPrefix(line, "{") {
			audit = append(audit, line)
		}
	}
	require.Len(t, audit, 1, stderr)
	l := auditLines(t, audit[0])[0]
	assert.Equal(t, "get_profile", l["tool"])
	assert.Equal(t, "ok", l["outcome"])
	assert.Equal(t, "sandbox", l["connection"])
}

func TestRunMetricsAddrBeyondLoopbackNeedsTheToken(t *testing.T) {
	code, _, stderr := runCmd(t, []string{"--sandbox", "--metrics-addr", "0.0.0.0:9464"}, nil, "")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "--metrics-addr")
	assert.Contains(t, stderr, "OUTLOOK_MCP_TOKEN")
}

// TestRunAuditNeverHoldsWhatTheUserWrote: tool calls full of distinctive
// text (recipients, subjects, bodies, queries, file names, comments, ids)
// leave one audit line each, and none of that text in the audit log or in
// the logs, at debug level.
func TestRunAuditNeverHoldsWhatTheUserWrote(t *testing.T) {
	secrets := []string{"zq-recipient-7731@contoso.com", "ZQSUBJECT8812", "ZQBODY4410", "zq-attachment-5521.pdf",
		"ZQQUERY3390", "ZQDRAFT6604", "zq-cc-2290@contoso.com", "ZQEVENT1187", "zq-attendee-4471@contoso.com", "ZQCOMMENT9034", "ZQBADID7741"}
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"send_mail", map[string]any{"to": []string{secrets[0]}, "subject": secrets[1], "body": secrets[2],
			"attachments": []map[string]any{{"name": secrets[3], "content_base64": "aGk="}}}},
		{"search_mail", map[string]any{"query": secrets[4], "limit": 1}},
		{"create_draft", map[string]any{"subject": secrets[5], "body": secrets[2], "cc": []string{secrets[6]}}},
		{"create_event", map[string]any{"subject": secrets[7], "start": "2026-11-26T10:00", "end": "2026-11-26T10:30",
			"attendees": []map[string]any{{"address": secrets[8]}}, "body": secrets[2]}},
		{"reply_to_message", map[string]any{"message_id": "../" + secrets[10], "body": secrets[9]}},
		{"search_mail", map[string]any{"query": secrets[4], "limit": secrets[1]}},
	}
	in := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"pipe","version":"0"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	}
	for i, c := range calls {
		msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": i + 2, "method": "tools/call", "params": map[string]any{"name": c.tool, "arguments": c.args}})
		require.NoError(t, err)
		in = append(in, string(msg))
	}
	auditFile := filepath.Join(t.TempDir(), "audit.log")
	code, stdout, stderr := runCmd(t, []string{"--sandbox", "--audit-log", auditFile},
		map[string]string{"OUTLOOK_MCP_LOG_LEVEL": "debug"}, strings.Join(in, "\n")+"\n")
	require.Equal(t, 0, code, stderr)
	for _, s := range []string{secrets[0], secrets[1], secrets[3], secrets[5], secrets[7]} {
		require.Contains(t, stdout, s, "the calls ran with the text (their answers echo it)")
	}
	data, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	audit := string(data)
	lines := auditLines(t, audit)
	require.Len(t, lines, len(calls), audit)
	got := map[string]string{}
	for _, l := range lines {
		got[l["tool"].(string)+" "+l["outcome"].(string)] = ""
	}
	assert.Equal(t, map[string]string{"send_mail ok": "", "search_mail ok": "", "create_draft ok": "", "create_event ok": "",
		"reply_to_message input_error": "", "search_mail input_error": ""}, got)
	assert.Contains(t, stderr, "level=DEBUG", "the logs were at debug level")
	assert.NotContains(t, stderr, `"outcome"`, "with --audit-log, audit lines leave stderr")
	for _, s := range secrets {
		assert.NotContains(t, audit, s, "the audit log holds what the user wrote")
		assert.NotContains(t, strings.ToLower(stderr), strings.ToLower(s), "the logs hold what the user wrote")
	}
}
