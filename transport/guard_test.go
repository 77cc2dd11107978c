package transport

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Attacks on the guard, each through a real loopback listener (the Host
// check depends on the socket), against a bare MCP server.

const (
	testToken  = "0123456789abcdef0123456789abcdef"
	toolsList  = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	goodOrigin = "https://app.example.com"
)

func startGuarded(t *testing.T, cfg HTTPConfig) string {
	t.Helper()
	h, err := Handler(server.NewMCPServer("t", "1", server.WithToolCapabilities(true)), cfg)
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

type req struct {
	method, path string
	header       map[string]string
	body         string
}

// send makes one request with JSON defaults that each test overrides.
func send(t *testing.T, base string, r req) *http.Response {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	body := r.body
	if body == "" && method == http.MethodPost {
		body = toolsList
	}
	hr, err := http.NewRequestWithContext(t.Context(), method, base+r.path, strings.NewReader(body))
	require.NoError(t, err)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range r.header {
		if k == "Host" {
			hr.Host = v
		} else if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func status(t *testing.T, base string, r req) (int, http.Header, string) {
	t.Helper()
	resp := send(t, base, r)
	if r.method == http.MethodGet && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, resp.Header, "" // an event stream: leave it open
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// sessionEndpoint opens GET /sse and returns the stream and its /message URL.
func sessionEndpoint(t *testing.T, base string, header map[string]string) (*http.Response, string) {
	t.Helper()
	resp := send(t, base, req{method: http.MethodGet, path: "/sse", header: header})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ep, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			return resp, ep
		}
	}
	t.Fatal("no endpoint event on /sse")
	return nil, ""
}

func TestGuardRefusesForeignOrigins(t *testing.T) {
	base := startGuarded(t, HTTPConfig{AllowedOrigins: []string{goodOrigin, "http://localhost:5173"}})
	_, message := sessionEndpoint(t, base, nil)
	for _, origin := range []string{
		"https://evil.example",
		"null",                             // sandboxed iframes and file:// pages
		"https://app.example.co",           // a prefix of an allowed one
		"https://app.example.com.evil.com", // an allowed one as prefix
		"https://evil.com/https://app.example.com",
		"http://app.example.com",       // other scheme
		"https://app.example.com:8443", // other port
		"http://localhost:5174",
		"http://127.0.0.1:5173", // same machine, other name
		"*",
	} {
		for _, r := range []req{
			{path: "/mcp"},
			{method: http.MethodGet, path: "/mcp"},
			{method: http.MethodGet, path: "/sse"},
			{path: message},
			{path: message, header: map[string]string{"Content-Type": "text/plain"}},
			{method: http.MethodOptions, path: "/mcp", header: map[string]string{"Access-Control-Request-Method": "POST"}},
			{method: http.MethodOptions, path: "/message", header: map[string]string{"Access-Control-Request-Method": "POST"}},
		} {
			r.header = merge(r.header, map[string]string{"Origin": origin})
			code, h, body := status(t, base, r)
			assert.Equal(t, http.StatusForbidden, code, "%s %s from %s: %s", r.method, r.path, origin, body)
			assert.Empty(t, h.Get("Access-Control-Allow-Origin"), "%s %s from %s", r.method, r.path, origin)
			assert.Contains(t, body, "--allowed-origins")
		}
	}
	// Two Origin headers: neither is believed.
	hr, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(toolsList))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Add("Origin", goodOrigin)
	hr.Header.Add("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// TestGuardAcceptsPagesOfItsOwnLoopbackOrigin: MCP's DNS-rebinding rule
// (and the official conformance suite) expects a local server to answer a
// request whose Origin is the loopback address and port it was sent to;
// a page of any other port, name or scheme of this machine is refused.
func TestGuardAcceptsPagesOfItsOwnLoopbackOrigin(t *testing.T) {
	base := startGuarded(t, HTTPConfig{})
	port := base[strings.LastIndex(base, ":")+1:]
	code, h, body := status(t, base, req{path: "/mcp", header: map[string]string{"Origin": base}})
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, base, h.Get("Access-Control-Allow-Origin"))

	for _, r := range []req{
		{header: map[string]string{"Origin": "http://localhost:" + port}}, // Host is 127.0.0.1
		{header: map[string]string{"Origin": "https://127.0.0.1:" + port}},
		{header: map[string]string{"Origin": base + "/"}},
		{header: map[string]string{"Origin": "http://127.0.0.1:1" + port}},
		{header: map[string]string{"Origin": "http://127.0.0.2:" + port}},
		{header: map[string]string{"Origin": "http://evil.example:" + port, "Host": "evil.example:" + port}}, // rebinding
		{header: map[string]string{"Origin": "http://localhost:" + port, "Host": "127.0.0.1"}},
	} {
		r.path = "/mcp"
		code, h, body := status(t, base, r)
		assert.Equal(t, http.StatusForbidden, code, "from %s: %s", r.header["Origin"], body)
		assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestGuardEchoesAllowedOriginsAndNeverAWildcard(t *testing.T) {
	base := startGuarded(t, HTTPConfig{AllowedOrigins: []string{goodOrigin}, Token: testToken})
	auth := "Bearer " + testToken

	// Without Origin (not a browser): no CORS header at all, even on /sse,
	// where mcp-go on its own sends "*".
	code, h, _ := status(t, base, req{method: http.MethodGet, path: "/sse", header: map[string]string{"Authorization": auth}})
	require.Equal(t, http.StatusOK, code)
	assert.Empty(t, h.Values("Access-Control-Allow-Origin"))
	assert.Contains(t, h.Values("Vary"), "Origin")

	for _, origin := range []string{goodOrigin, "HTTPS://App.Example.com"} {
		code, h, _ = status(t, base, req{method: http.MethodGet, path: "/sse", header: map[string]string{"Authorization": auth, "Origin": origin}})
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, []string{goodOrigin}, h.Values("Access-Control-Allow-Origin"))
		assert.Contains(t, h.Values("Vary"), "Origin")

		code, h, body := status(t, base, req{path: "/mcp", header: map[string]string{"Authorization": auth, "Origin": origin}})
		require.Equal(t, http.StatusOK, code, body)
		assert.Equal(t, []string{goodOrigin}, h.Values("Access-Control-Allow-Origin"))
		assert.Equal(t, "Mcp-Session-Id", h.Get("Access-Control-Expose-Headers"))
		assert.Contains(t, body, `"tools"`)
	}

	// A preflight needs no token (browsers send none on it) and says what
	// the real request may carry.
	code, h, _ = status(t, base, req{method: http.MethodOptions, path: "/mcp", header: map[string]string{
		"Origin": goodOrigin, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, mcp-param-folder",
	}})
	assert.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, goodOrigin, h.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, h.Values("Vary"), "Origin")
	assert.Contains(t, h.Get("Access-Control-Allow-Methods"), "POST")
	for _, name := range []string{"Authorization", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID", "mcp-param-folder"} {
		assert.Contains(t, h.Get("Access-Control-Allow-Headers"), name)
	}
	assert.Empty(t, h.Get("Access-Control-Allow-Credentials"), "bearer tokens, not cookies")

	// An allowed origin still needs the token.
	code, _, _ = status(t, base, req{path: "/mcp", header: map[string]string{"Origin": goodOrigin}})
	assert.Equal(t, http.StatusUnauthorized, code)
}

func TestGuardOriginsAreValidatedAtStart(t *testing.T) {
	for in, want := range map[string]string{
		"https://app.example.com":      "https://app.example.com",
		"HTTPS://App.Example.COM:443":  "https://app.example.com",
		"http://localhost:80":          "http://localhost",
		"http://localhost:5173":        "http://localhost:5173",
		"http://[::1]:3000":            "http://[::1]:3000",
		"chrome-extension://abcdefghi": "chrome-extension://abcdefghi",
	} {
		got, err := parseOrigin(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, bad := range []string{"*", "app.example.com", "https://app.example.com/", "https://app.example.com/app", "https://app.example.com?x=1", "https://user@app.example.com", "https://", "null", "https://app.example.com#x"} {
		_, err := NewGuard(HTTPConfig{AllowedOrigins: []string{bad}})
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), "--allowed-origins", bad)
			assert.Contains(t, err.Error(), "https://app.example.com", "the error shows the form: %s", bad)
		}
	}
	for _, bad := range []string{"mcp.example.com:443", "https://mcp.example.com", "", "a/b"} {
		_, err := NewGuard(HTTPConfig{AllowedHosts: []string{bad}})
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), "--allowed-hosts", bad)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0.1:80", ""} {
		_, err := NewGuard(HTTPConfig{TrustedProxies: []string{bad}})
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), "--trusted-proxies", bad)
		}
	}
}

func TestGuardHostCheck(t *testing.T) {
	base := startGuarded(t, HTTPConfig{AllowedHosts: []string{"mcp.example.com", "[fd00::1]"}})
	port := base[strings.LastIndex(base, ":"):]
	for host, want := range map[string]int{
		"127.0.0.1" + port:                http.StatusOK,
		"localhost" + port:                http.StatusOK,
		"LOCALHOST":                       http.StatusOK,
		"[::1]" + port:                    http.StatusOK,
		"mcp.example.com":                 http.StatusOK, // a listed name: a reverse proxy on this machine
		"MCP.example.com:443":             http.StatusOK,
		"[fd00::1]:8080":                  http.StatusOK,
		"127.0.0.1.evil.com":              http.StatusForbidden,
		"localhost.evil.com" + port:       http.StatusForbidden,
		"evil.com":                        http.StatusForbidden,
		"mcp.example.com.evil.com":        http.StatusForbidden,
		"example.com":                     http.StatusForbidden,
		"127.0.0.1.nip.io" + port:         http.StatusForbidden,
		"mcp.example.com@evil.com" + port: http.StatusForbidden,
	} {
		for _, r := range []req{{path: "/mcp"}, {method: http.MethodGet, path: "/sse"}, {path: "/message?sessionId=x"}} {
			r.header = map[string]string{"Host": host}
			code, _, body := status(t, base, r)
			if want == http.StatusForbidden {
				assert.Equal(t, want, code, "%s %s with Host %s: %s", r.method, r.path, host, body)
				assert.Contains(t, body, "--allowed-hosts")
			} else {
				assert.NotEqual(t, http.StatusForbidden, code, "%s %s with Host %s: %s", r.method, r.path, host, body)
			}
		}
	}
	// A listed name reaches the MCP server (mcp-go's own check is off).
	code, _, body := status(t, base, req{path: "/mcp", header: map[string]string{"Host": "mcp.example.com"}})
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"tools"`)
}

func TestGuardAcceptsOnlyJSON(t *testing.T) {
	base := startGuarded(t, HTTPConfig{})
	_, message := sessionEndpoint(t, base, nil)
	for _, path := range []string{"/mcp", message} {
		for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json-seq", "text/json", "application/json;;"} {
			code, _, body := status(t, base, req{path: path, header: map[string]string{"Content-Type": ct}})
			assert.Equal(t, http.StatusUnsupportedMediaType, code, "%s as %q: %s", path, ct, body)
			assert.Contains(t, body, "application/json")
		}
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
			code, _, body := status(t, base, req{path: path, header: map[string]string{"Content-Type": ct}})
			assert.Less(t, code, 300, "%s as %q: %s", path, ct, body)
		}
	}
}

func TestGuardBoundsTheBody(t *testing.T) {
	const limit = 4096
	base := startGuarded(t, HTTPConfig{MaxRequestBytes: limit})
	_, message := sessionEndpoint(t, base, nil)
	// A valid request padded with spaces to n bytes.
	padded := func(n int) string { return toolsList + strings.Repeat(" ", n-len(toolsList)) }
	for _, path := range []string{"/mcp", message} {
		code, _, body := status(t, base, req{path: path, body: padded(limit)})
		assert.Less(t, code, 300, "%s: exactly the limit passes: %s", path, body)

		code, _, body = status(t, base, req{path: path, body: padded(limit + 1)})
		assert.Equal(t, http.StatusRequestEntityTooLarge, code, "%s: one byte more (Content-Length): %s", path, body)
		assert.Contains(t, body, "--max-request-bytes")

		// Chunked (a body of unknown length), without Content-Length: the
		// bound holds while reading.
		hr, _ := http.NewRequest(http.MethodPost, base+path, io.MultiReader(strings.NewReader(padded(limit)), strings.NewReader("x")))
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json, text/event-stream")
		require.Equal(t, int64(0), hr.ContentLength)
		resp, err := http.DefaultClient.Do(hr)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s chunked: %s", path, b)

		// A huge Content-Length with a small body is refused at once,
		// without waiting for bytes that never come.
		start := time.Now()
		raw := rawHTTP(t, base, "POST "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"+toolsList)
		assert.True(t, strings.HasPrefix(raw, "HTTP/1.1 413"), "%s: %s", path, raw)
		assert.Less(t, time.Since(start), 2*time.Second)
	}
}

// rawHTTP writes a request as is and returns the start of the answer.
func rawHTTP(t *testing.T, base, request string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, request)
	require.NoError(t, err)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return line
}

func TestGuardBoundsTheStreams(t *testing.T) {
	base := startGuarded(t, HTTPConfig{MaxSessions: 2})
	first, _ := sessionEndpoint(t, base, nil)
	sessionEndpoint(t, base, nil)
	for _, path := range []string{"/sse", "/mcp"} {
		code, h, body := status(t, base, req{method: http.MethodGet, path: path})
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s: %s", path, body)
		assert.NotEmpty(t, h.Get("Retry-After"))
		assert.Contains(t, body, "--max-sessions")
	}
	// POSTs are not streams: they still pass.
	code, _, _ := status(t, base, req{path: "/mcp"})
	assert.Equal(t, http.StatusOK, code)

	first.Body.Close() // a stream ends: its place is free again
	assert.Eventually(t, func() bool {
		resp := send(t, base, req{method: http.MethodGet, path: "/sse"})
		defer resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond)
}

func TestGuardThrottlesWrongTokens(t *testing.T) {
	base := startGuarded(t, HTTPConfig{Token: testToken})
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": tok} }

	// No credentials at all (how OAuth discovery starts) never count.
	for range 3 * authFailureLimit {
		code, h, _ := status(t, base, req{path: "/mcp", header: bearer("")})
		require.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, `Bearer realm="outlook-mcp"`, h.Get("WWW-Authenticate"))
	}
	code, _, _ := status(t, base, req{path: "/mcp", header: bearer("Bearer " + testToken)})
	require.Equal(t, http.StatusOK, code)

	for i := range authFailureLimit {
		code, _, body := status(t, base, req{path: "/mcp", header: bearer(fmt.Sprintf("Bearer guess%d", i))})
		require.Equal(t, http.StatusUnauthorized, code, "failure %d", i+1)
		assert.NotContains(t, body, "guess")
	}
	for _, auth := range []string{"Bearer guess", "Basic Zm9vOmJhcg==", "Bearer " + testToken} {
		code, h, body := status(t, base, req{path: "/mcp", header: bearer(auth)})
		assert.Equal(t, http.StatusTooManyRequests, code, "while throttled, %q: %s", auth, body)
		secs, err := strconv.Atoi(h.Get("Retry-After"))
		assert.NoError(t, err)
		assert.True(t, secs > 0 && secs <= 60, "Retry-After %d", secs)
	}
}

// TestGuardThrottleHoldsUnderParallelGuesses: 1,792 wrong tokens in 2 s
// were all answered. A parallel burst gets 10 answers, not one more.
func TestGuardThrottleHoldsUnderParallelGuesses(t *testing.T) {
	base := startGuarded(t, HTTPConfig{Token: testToken})
	const guesses = 300
	codes := make(chan int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Go(func() {
			resp := send(t, base, req{path: "/mcp", header: map[string]string{"Authorization": fmt.Sprintf("Bearer %032d", i)}})
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusUnauthorized: authFailureLimit, http.StatusTooManyRequests: guesses - authFailureLimit}, count)
}

func TestThrottleWindowLiftsAndMemoryIsBounded(t *testing.T) {
	th := newThrottle()
	now := time.Now()
	th.now = func() time.Time { return now }
	for range authFailureLimit - 1 {
		assert.False(t, th.fail("a"))
	}
	assert.Zero(t, th.wait("a"), "below the limit")
	assert.True(t, th.fail("a"), "the limit is reached once")
	assert.Equal(t, authFailureWindow, th.wait("a"))
	assert.Zero(t, th.wait("b"), "per client")
	now = now.Add(authFailureWindow)
	assert.Zero(t, th.wait("a"), "the window lifts")
	assert.False(t, th.fail("a"), "and counting starts anew")

	for i := range maxTrackedClients + 500 {
		th.fail(strconv.Itoa(i))
		now = now.Add(time.Millisecond)
	}
	assert.LessOrEqual(t, len(th.clients), maxTrackedClients)
	for range authFailureLimit {
		th.fail("newest")
	}
	assert.Positive(t, th.wait("newest"), "a new client is tracked even when the table is full")

	// IPv6 clients are keyed by their /64: one host holds a whole one.
	assert.Equal(t, throttleKey("2001:db8:1:2::1"), throttleKey("2001:db8:1:2:ffff::9"))
	assert.NotEqual(t, throttleKey("2001:db8:1:2::1"), throttleKey("2001:db8:1:3::1"))
	assert.Equal(t, "192.0.2.1", throttleKey("192.0.2.1"))
}

func TestClientAddr(t *testing.T) {
	g, err := NewGuard(HTTPConfig{TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8", "::1"}})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy", "192.0.2.7:5000", nil, "192.0.2.7"},
		{"an untrusted peer's XFF is ignored", "192.0.2.7:5000", []string{"198.51.100.1"}, "192.0.2.7"},
		{"trusted peer, one hop", "127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"the client cannot pick its address", "127.0.0.1:5000", []string{"203.0.113.9, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are skipped", "127.0.0.1:5000", []string{"198.51.100.1, 10.1.2.3", "10.0.0.1"}, "198.51.100.1"},
		{"all trusted: the peer", "127.0.0.1:5000", []string{"10.1.2.3"}, "127.0.0.1"},
		{"no header: the peer", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"garbage stops the walk", "127.0.0.1:5000", []string{"198.51.100.1, not-an-ip"}, "127.0.0.1"},
		{"a port in XFF", "127.0.0.1:5000", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"IPv4-mapped peer is trusted as IPv4", "[::ffff:127.0.0.1]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv6 peer", "[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped trusted hop", "127.0.0.1:5000", []string{"198.51.100.1, ::ffff:10.0.0.1"}, "198.51.100.1"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		assert.Equal(t, tc.want, g.ClientAddr(r), tc.name)
	}
}

// TestGuardThrottlesPerClientBehindAProxy: behind a trusted proxy, each
// client is throttled on its own address, not the proxy's.
func TestGuardThrottlesPerClientBehindAProxy(t *testing.T) {
	base := startGuarded(t, HTTPConfig{Token: testToken, TrustedProxies: []string{"127.0.0.1"}})
	from := func(client, auth string) int {
		code, _, _ := status(t, base, req{path: "/mcp", header: map[string]string{"Authorization": auth, "X-Forwarded-For": client}})
		return code
	}
	for range authFailureLimit {
		require.Equal(t, http.StatusUnauthorized, from("198.51.100.1", "Bearer wrong"))
	}
	assert.Equal(t, http.StatusTooManyRequests, from("198.51.100.1", "Bearer wrong"))
	assert.Equal(t, http.StatusTooManyRequests, from("203.0.113.5, 198.51.100.1", "Bearer wrong"), "a spoofed left part changes nothing")
	assert.Equal(t, http.StatusOK, from("198.51.100.2", "Bearer "+testToken), "another client is not held up")
}

func TestGuardWorksOnAFewLargeBodiesAtOnce(t *testing.T) {
	g, err := NewGuard(HTTPConfig{})
	require.NoError(t, err)
	var inside, most atomic.Int32
	release := make(chan struct{})
	h := g.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if r.ContentLength > largeBody {
			<-release // a large send being worked on
		}
		inside.Add(-1)
	}), false)
	large := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"b":"` + strings.Repeat("x", 2<<20) + `"}}}`
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(large))
			r.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(httptest.NewRecorder(), r)
		})
	}
	require.Eventually(t, func() bool { return inside.Load() == maxLargeAtOnce }, 5*time.Second, time.Millisecond)
	// Small requests are not held up behind the large ones.
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(toolsList))
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), r)
	close(release)
	wg.Wait()
	assert.EqualValues(t, maxLargeAtOnce+1, most.Load(), "at most %d large bodies at once, beside the small request", maxLargeAtOnce)
}
