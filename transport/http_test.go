package transport

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve runs ServeHTTP with short timeouts and a tool that takes its time.
func serve(t *testing.T, cfg HTTPConfig) string {
	t.Helper()
	s := server.NewMCPServer("t", "1", server.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("slow"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-time.After(3 * cfg.ReadTimeout):
			return mcp.NewToolResultText("done"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	cfg.Addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- ServeHTTP(ctx, s, cfg, func(addr string) { ready <- addr }) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case addr := <-ready:
		return addr
	case err := <-done:
		t.Fatalf("ServeHTTP: %v", err)
	}
	return ""
}

var shortTimeouts = HTTPConfig{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, IdleTimeout: 500 * time.Millisecond}

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF: the server closed it; a timeout: still open
}

func TestServeHTTPCutsTrickledRequests(t *testing.T) {
	addr := serve(t, shortTimeouts)
	// Headers, then a body at a byte per 100 ms: cut after ReadTimeout.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	require.NoError(t, err)
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		if _, err := conn.Write([]byte(" ")); err != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Less(t, time.Since(start), 2*time.Second, "the trickled body was cut off")

	// Headers that never end: cut after ReadHeaderTimeout.
	conn2, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn2.Close()
	_, err = io.WriteString(conn2, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	require.NoError(t, err)
	assert.True(t, closedWithin(conn2, 2*time.Second), "unfinished headers were cut off")
}

func TestServeHTTPClosesIdleKeepAlives(t *testing.T) {
	addr := serve(t, shortTimeouts)
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, closedWithin(conn, 2*time.Second), "an idle keep-alive connection was closed")
}

// TestServeHTTPReadTimeoutSparesStreams: a stream and a tool call outlast
// ReadTimeout: it bounds reading a request, not answering it.
func TestServeHTTPReadTimeoutSparesStreams(t *testing.T) {
	addr := serve(t, shortTimeouts)
	base := "http://" + addr

	stream := send(t, base, req{method: http.MethodGet, path: "/sse"})
	require.Equal(t, http.StatusOK, stream.StatusCode)
	events := bufio.NewReader(stream.Body)
	var endpoint string
	for endpoint == "" {
		line, err := events.ReadString('\n')
		require.NoError(t, err)
		if ep, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			endpoint = ep
		}
	}
	time.Sleep(3 * shortTimeouts.ReadTimeout)
	code, _, body := status(t, base, req{path: endpoint, body: `{"jsonrpc":"2.0","id":7,"method":"ping"}`})
	require.Equal(t, http.StatusAccepted, code, body)
	got := make(chan string, 1)
	go func() {
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				got <- "stream ended: " + err.Error()
				return
			}
			if strings.Contains(line, `"id":7`) {
				got <- line
				return
			}
		}
	}()
	select {
	case line := <-got:
		assert.Contains(t, line, `"result"`, "the stream still answers after ReadTimeout")
	case <-time.After(5 * time.Second):
		t.Fatal("no answer on the stream")
	}

	code, _, body = status(t, base, req{path: "/mcp", body: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}}`})
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "done", "a tool call longer than ReadTimeout completes")
}

func TestServeHTTPRefusesBadSettingsBeforeListening(t *testing.T) {
	for _, cfg := range []HTTPConfig{
		{Addr: "0.0.0.0:0", Token: "short"},
		{Addr: "127.0.0.1:0", AllowedOrigins: []string{"https://app.example.com/"}},
		{Addr: "127.0.0.1:0", MaxSessions: -1},
	} {
		cfg.Logger = slog.New(slog.DiscardHandler)
		listened := false
		err := ServeHTTP(t.Context(), server.NewMCPServer("t", "1"), cfg, func(string) { listened = true })
		assert.Error(t, err)
		assert.False(t, listened)
		assert.Error(t, cfg.Check(), "Check says so before the server is built")
	}
}
