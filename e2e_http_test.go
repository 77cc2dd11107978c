package main

// End-to-end attacks on the HTTP front door (issue 6, "Safe to expose"):
// in-process through transport.ServeHTTP where the server's settings are
// enough, against the built binary where the process matters (its logs,
// its memory, its flags).

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/transport"
)

const getProfileCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_profile","arguments":{}}}`

// request makes one HTTP request with exactly the given headers.
func request(t *testing.T, method, url string, header map[string]string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(callCtx(t), method, url, body)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		return resp, "" // a stream: the caller reads it
	}
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// openSSE opens GET /sse and returns its /message URL and the stream.
func openSSE(t *testing.T, base string, header map[string]string) (string, *bufio.Reader) {
	t.Helper()
	resp, body := request(t, "GET", base+"/sse", header, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	events := bufio.NewReader(resp.Body)
	for {
		line, err := events.ReadString('\n')
		require.NoError(t, err, "no endpoint event")
		if ep, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			return base + ep, events
		}
	}
}

// readEvent reads the stream until a message with the given JSON-RPC id.
func readEvent(t *testing.T, events *bufio.Reader, id int) string {
	t.Helper()
	want := fmt.Sprintf(`"id":%d`, id)
	for {
		line, err := events.ReadString('\n')
		require.NoError(t, err, "the stream ended before the answer to %d", id)
		if strings.HasPrefix(line, "data:") && strings.Contains(line, want) {
			return line
		}
	}
}

// TestE2EHTTPWebPageCannotDriveServer: a page in the user's browser finds
// the server on loopback. Today's attack: open /sse cross-origin, read the
// session endpoint (ACAO: *), post a call as text/plain (no preflight).
func TestE2EHTTPWebPageCannotDriveServer(t *testing.T) {
	srv := startHTTPServer(t, setup{}, "")
	evil := map[string]string{"Origin": "https://evil.example"}

	resp, body := request(t, "GET", srv.base+"/sse", evil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.NotContains(t, body, "sessionId")

	resp, body = request(t, "OPTIONS", srv.base+"/mcp", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "preflight: %s", body)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

	// Not from a browser, /sse works, but offers no page to read it.
	message, _ := openSSE(t, srv.base, nil)
	for _, tc := range []struct {
		url    string
		header map[string]string
		want   int
	}{
		{message, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
		{message, map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}, http.StatusForbidden},
		{message, map[string]string{"Content-Type": "application/json", "Origin": "null"}, http.StatusForbidden},
		{srv.base + "/mcp", map[string]string{"Content-Type": "text/plain", "Accept": "application/json, text/event-stream"}, http.StatusUnsupportedMediaType},
		{srv.base + "/mcp", map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Origin": "https://evil.example"}, http.StatusForbidden},
	} {
		resp, body := request(t, "POST", tc.url, tc.header, strings.NewReader(getProfileCall))
		assert.Equal(t, tc.want, resp.StatusCode, "%v: %s", tc.header, body)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	assert.Empty(t, srv.sim.Requests(), "nothing reached Nango")
}

// TestE2EHTTPAllowedOriginDrivesServer: a page of a listed origin can.
func TestE2EHTTPAllowedOriginDrivesServer(t *testing.T) {
	const origin = "http://localhost:5173"
	srv := startHTTPServerWith(t, setup{}, transport.HTTPConfig{AllowedOrigins: []string{origin}})
	resp, _ := request(t, "OPTIONS", srv.base+"/mcp", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, mcp-protocol-version"}, nil)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))

	resp, body := request(t, "POST", srv.base+"/mcp", map[string]string{"Origin": origin, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"}, strings.NewReader(getProfileCall))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, body, `"connection_id":"sandbox"`)

	message, events := openSSE(t, srv.base, map[string]string{"Origin": origin})
	resp, body = request(t, "POST", message, map[string]string{"Origin": origin, "Content-Type": "application/json"}, strings.NewReader(strings.Replace(getProfileCall, `"id":1`, `"id":5`, 1)))
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	assert.Contains(t, readEvent(t, events, 5), `"connection_id":"sandbox"`)
}

// TestE2EHTTPLargestSendFits: the biggest send_mail the tools take (3 MB
// of attachments, base64 about 4 MiB, and a 1 MB body) passes the default
// bound; a body beyond the bound is a 413 that says which flag to change.
func TestE2EHTTPLargestSendFits(t *testing.T) {
	srv := startHTTPServer(t, setup{}, "")
	file := base64.StdEncoding.EncodeToString(make([]byte, 1<<20))
	args := map[string]any{
		"to": []string{"someone@example.com"}, "subject": "the big one",
		"body": strings.Repeat("All work and no play. ", (1<<20)/22),
		"attachments": []map[string]string{
			{"name": "a.bin", "content_base64": file}, {"name": "b.bin", "content_base64": file}, {"name": "c.bin", "content_base64": file},
		},
	}
	call, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": "send_mail", "arguments": args}})
	require.NoError(t, err)
	t.Logf("largest send_mail: %.2f MiB", float64(len(call))/(1<<20))
	// 5 MiB of JSON decoded a few times over takes seconds under -race on
	// a busy machine: this asserts the size passes, not a speed.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	status, _, body := rawRequestCtx(t, ctx, "POST", srv.base+"/mcp", "", "", string(call))
	require.Equal(t, http.StatusOK, status, body[:min(len(body), 500)])
	assert.NotContains(t, body, `"isError":true`, body[:min(len(body), 500)])
	assert.Contains(t, body, `"status":"accepted"`)
	require.Len(t, srv.sim.Sent(), 1)

	huge := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", transport.DefaultMaxRequestBytes) + `"}}`
	for _, path := range []string{"/mcp", "/message?sessionId=x"} {
		status, _, body = rawRequest(t, "POST", srv.base+path, "", "", huge)
		assert.Equal(t, http.StatusRequestEntityTooLarge, status, path)
		assert.Contains(t, body, "--max-request-bytes", path)
	}
}

// TestE2EHTTPThrottlesTokenGuessing: after 10 wrong tokens a client gets
// 429 with Retry-After, not another answer to its guess.
func TestE2EHTTPThrottlesTokenGuessing(t *testing.T) {
	token := strings.Repeat("t0k3n", 8)
	srv := startHTTPServer(t, setup{}, token)
	for i := range 3 {
		status, _, _ := rawRequest(t, "POST", srv.base+"/mcp", "", "", toolsList)
		assert.Equal(t, http.StatusUnauthorized, status, "no credentials %d: not a failure", i)
	}
	var statuses []int
	for i := range 15 {
		status, header, _ := rawRequest(t, "POST", srv.base+"/mcp", "", fmt.Sprintf("Bearer guess-%d", i), toolsList)
		statuses = append(statuses, status)
		if status == http.StatusTooManyRequests {
			assert.NotEmpty(t, header.Get("Retry-After"))
		}
	}
	assert.Equal(t, []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429, 429, 429, 429}, statuses)
	status, _, _ := rawRequest(t, "POST", srv.base+"/mcp", "", "Bearer "+token, toolsList)
	assert.Equal(t, http.StatusTooManyRequests, status, "while throttled, even the right token waits: else guessing goes on")

	logs := srv.logs.String()
	assert.Equal(t, 1, strings.Count(logs, `level=WARN msg="too many wrong credentials`), "one warning: %s", logs)
	assert.NotContains(t, logs, "guess-")
	assert.NotContains(t, logs, token)
}

// ---- the built binary ----

type binaryServer struct {
	base   string
	cmd    *exec.Cmd
	exited chan error
	stderr *notifyWriter
}

// startBinary runs the built server with --transport http on a free
// loopback port, env added to this process's environment (args may say
// --sandbox). Cleanup stops it with SIGTERM.
func startBinary(t *testing.T, env []string, args ...string) *binaryServer {
	t.Helper()
	stderr := &notifyWriter{re: regexp.MustCompile(`msg=listening addr=(\S+)`), hit: make(chan string, 1)}
	cmd := exec.Command(serverBinary(t), append([]string{"--transport", "http", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	srv := &binaryServer{cmd: cmd, exited: exited, stderr: stderr}
	t.Cleanup(func() {
		if srv.exited == nil {
			return // stopped
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(callTimeout):
			_ = cmd.Process.Kill()
		}
	})
	select {
	case addr := <-stderr.hit:
		srv.base = "http://" + addr
		return srv
	case err := <-exited:
		t.Fatalf("the server exited before listening (%v):\n%s", err, stderr.String())
	case <-time.After(callTimeout):
		t.Fatalf("not listening:\n%s", stderr.String())
	}
	return nil
}

// stop ends the server with SIGTERM and returns all it logged.
func (b *binaryServer) stop(t *testing.T) string {
	t.Helper()
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-b.exited:
		assert.NoError(t, err, "the server exits cleanly on SIGTERM")
	case <-time.After(callTimeout):
		t.Fatal("the server did not exit on SIGTERM")
	}
	b.exited = nil
	return b.stderr.String()
}

// TestE2EHTTPSessionIDsStayOutOfLogs: whoever reads the logs must not be
// able to post into someone's SSE session. mcp-go logs each request with
// its session id, and writes some errors (with ids) to the standard log.
func TestE2EHTTPSessionIDsStayOutOfLogs(t *testing.T) {
	srv := startBinary(t, []string{"OUTLOOK_MCP_LOG_LEVEL=debug"}, "--sandbox")
	message, events := openSSE(t, srv.base, nil)
	id := message[strings.Index(message, "sessionId=")+len("sessionId="):]
	require.NotEmpty(t, id)
	for i, call := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		strings.Replace(getProfileCall, `"id":1`, `"id":3`, 1),
		`{"jsonrpc":"2.0","id":4,"method":"no/such/method"}`,
	} {
		resp, body := request(t, "POST", message, map[string]string{"Content-Type": "application/json"}, strings.NewReader(call))
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		readEvent(t, events, i+1)
	}
	resp, body := request(t, "POST", message, map[string]string{"Content-Type": "application/json"}, strings.NewReader("{not json"))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.NotContains(t, body, id, "nor in an error message")

	logs := srv.stop(t)
	assert.Contains(t, logs, "mcp.method=tools/list", "the requests were logged")
	assert.NotContains(t, logs, id)
	assert.NotContains(t, logs, strings.TrimPrefix(id, "sse-"))
	assert.Regexp(t, `mcp.session.id=sse#[0-9a-f]{8}`, logs, "a digest stands for the id")
}

// TestE2EHTTPBodiesDoNotGrowMemory: a 50 MB POST raised the server's RSS to
// 436 MB. Now a body costs at most --max-request-bytes (1 MiB here): with a
// length it is refused before it is read, without one (chunked) once the
// bound is passed.
func TestE2EHTTPBodiesDoNotGrowMemory(t *testing.T) {
	srv := startBinary(t, nil, "--sandbox", "--max-request-bytes", strconv.Itoa(1<<20))
	status := fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid)
	if _, err := os.Stat(status); err != nil {
		t.Skip("no /proc here to read the server's memory")
	}
	rss := func() int {
		data, err := os.ReadFile(status)
		require.NoError(t, err)
		m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(data)
		require.NotNil(t, m)
		kb, _ := strconv.Atoi(string(m[1]))
		return kb / 1024
	}
	before := rss()
	message, _ := openSSE(t, srv.base, nil)
	for _, url := range []string{srv.base + "/mcp", message} {
		for _, sized := range []bool{true, false} {
			var body io.Reader = io.LimitReader(zeros{}, 50<<20)
			if !sized {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequestWithContext(callCtx(t), "POST", url, body)
			require.NoError(t, err)
			if sized {
				req.ContentLength = 50 << 20
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s sized=%v", url, sized)
		}
	}
	after := rss()
	t.Logf("server peak RSS: %d MiB before, %d MiB after four 50 MB POSTs", before, after)
	assert.Less(t, after-before, 16, "MiB of peak RSS the refused bodies cost")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestE2EHTTPBinaryTakesItsSettingsFromTheEnvironment: the variables reach
// the running server (and a flag beats its variable).
func TestE2EHTTPBinaryTakesItsSettingsFromTheEnvironment(t *testing.T) {
	const origin = "https://app.example.com"
	srv := startBinary(t, []string{"OUTLOOK_MCP_ALLOWED_ORIGINS=" + origin, "OUTLOOK_MCP_MAX_SESSIONS=1", "OUTLOOK_MCP_MAX_REQUEST_BYTES=1"},
		"--sandbox", "--max-request-bytes", "100000")
	openSSE(t, srv.base, map[string]string{"Origin": origin})
	resp, body := request(t, "GET", srv.base+"/sse", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the second stream: %s", body)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))

	resp, body = request(t, "POST", srv.base+"/mcp", map[string]string{"Origin": origin, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"}, strings.NewReader(toolsList))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	resp, _ = request(t, "POST", srv.base+"/mcp", map[string]string{"Origin": "https://evil.example", "Content-Type": "application/json"}, strings.NewReader(toolsList))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestE2EHTTPBinaryRefusesAShortToken(t *testing.T) {
	cmd := exec.Command(serverBinary(t), "--sandbox", "--transport", "http", "--addr", "0.0.0.0:0")
	cmd.Env = append(os.Environ(), "OUTLOOK_MCP_TOKEN=letmein")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "it must not start: %s", out)
	assert.Contains(t, string(out), "OUTLOOK_MCP_TOKEN is too short")
	assert.Contains(t, string(out), "openssl rand -hex 32")
	assert.NotContains(t, string(out), "letmein")
}
