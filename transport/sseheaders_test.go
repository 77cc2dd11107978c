package transport

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// modern is a request of the 2026-07-28 era: its version, client and
// capabilities travel in _meta, with no initialize before it.
func modern(id int, method, params string) string {
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}`
	if params == "" {
		params = "{" + meta + "}"
	} else {
		params = "{" + meta + "," + strings.TrimPrefix(params, "{")
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params)
}

// modernServer serves the prompts and a tool "echo" behind Handler.
func modernServer(t *testing.T) string {
	t.Helper()
	s := promptServer()
	s.AddTool(mcp.NewTool("echo"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("echoed"), nil
	})
	h, err := Handler(s, HTTPConfig{})
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// sseSession posts requests to one SSE session and reads their answers
// from its stream.
type sseSession struct {
	t        *testing.T
	base     string
	endpoint string
	events   *bufio.Scanner
}

func openSSE(t *testing.T, base string) *sseSession {
	stream, endpoint := sessionEndpoint(t, base, nil)
	return &sseSession{t: t, base: base, endpoint: endpoint, events: bufio.NewScanner(stream.Body)}
}

func (s *sseSession) call(body string, header map[string]string) rpcAnswer {
	s.t.Helper()
	code, _, text := status(s.t, s.base, req{path: s.endpoint, body: body, header: header})
	require.Equal(s.t, http.StatusAccepted, code, text)
	for s.events.Scan() {
		if data, ok := strings.CutPrefix(s.events.Text(), "data: "); ok {
			var a rpcAnswer
			require.NoError(s.t, json.Unmarshal([]byte(data), &a), data)
			return a
		}
	}
	s.t.Fatal("the stream ended without an answer")
	return rpcAnswer{}
}

var version = map[string]string{"MCP-Protocol-Version": "2026-07-28"}

// TestSSEServesModernClientsWithoutStandardHeaders: the TypeScript SDK v2
// and the Inspector in the 2026-07-28 era send MCP-Protocol-Version on each
// POST to /message, and no Mcp-Method or Mcp-Name (headers of streamable
// HTTP only). Each request is answered, not refused -32020.
func TestSSEServesModernClientsWithoutStandardHeaders(t *testing.T) {
	base := modernServer(t)
	s := openSSE(t, base)

	a := s.call(modern(1, "server/discover", ""), nil)
	require.Nil(t, a.Error)
	assert.Contains(t, string(a.Result), "2026-07-28")

	for i, body := range []string{
		modern(2, "tools/list", ""),
		modern(3, "tools/call", `{"name":"echo","arguments":{}}`),
		modern(4, "prompts/get", `{"name":"follow_up","arguments":{"days":"3"}}`),
	} {
		a := s.call(body, version)
		require.Nil(t, a.Error, "%s: %+v", body, a.Error)
		assert.EqualValues(t, i+2, a.ID)
		assert.Contains(t, string(a.Result), `"resultType":"complete"`, "answered in the modern era")
	}
	a = s.call(modern(6, "tools/call", `{"name":"echo","arguments":{}}`), map[string]string{"mcp-protocol-version": "2026-07-28"})
	require.Nil(t, a.Error)
	assert.Contains(t, string(a.Result), "echoed")

	// A prompt's argument errors are still -32602, before mcp-go.
	a = s.call(modern(7, "prompts/get", `{"name":"daily_briefing","arguments":{"date":"someday"}}`), version)
	require.NotNil(t, a.Error)
	assert.Equal(t, mcp.INVALID_PARAMS, a.Error.Code)
}

// TestSSEStillRefusesStandardHeadersThatDisagreeWithTheBody: a POST to
// /message that carries any standard header has each checked against its
// body: one that disagrees, or Mcp-Name or Mcp-Param-* without Mcp-Method,
// is refused -32020 and the request does not run; with or without
// MCP-Protocol-Version, whichever era the body claims (mcp-go alone checked
// only a 2026-07-28 body with the version header).
func TestSSEStillRefusesStandardHeadersThatDisagreeWithTheBody(t *testing.T) {
	base := modernServer(t)
	s := openSSE(t, base)
	legacy := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`
	require.Nil(t, s.call(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`, nil).Error)
	for _, call := range []string{modern(1, "tools/call", `{"name":"echo","arguments":{}}`), legacy} {
		for _, versionHeader := range []map[string]string{version, {"MCP-Protocol-Version": "2025-11-25"}, nil} {
			for _, header := range []map[string]string{
				{"Mcp-Method": "tools/list"},
				{"mcp-method": "tools/list"},
				{"Mcp-Method": "tools/call", "Mcp-Name": "other"},
				{"Mcp-Method": "tools/call", "Mcp-Name": "=?base64?b3RoZXI=?="}, // "other"
				{"Mcp-Method": "tools/call"},                                    // Mcp-Name missing
				{"Mcp-Name": "echo"},
				{"Mcp-Param-Anything": "x"},
			} {
				where := fmt.Sprintf("%s %v %v", call, versionHeader, header)
				a := s.call(call, merge(versionHeader, header))
				if assert.NotNil(t, a.Error, where) {
					assert.Equal(t, mcp.HEADER_MISMATCH, a.Error.Code, where)
				}
				assert.NotContains(t, string(a.Result), "echoed", where)
			}
			a := s.call(call, merge(versionHeader, map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "echo"}))
			require.Nil(t, a.Error, "headers that agree with the body pass: %s %v", call, versionHeader)
			assert.Contains(t, string(a.Result), "echoed")
		}
	}
}

// TestStreamableHTTPKeepsItsHeaderRules: /mcp still requires Mcp-Method
// with MCP-Protocol-Version on a modern request, and refuses one that
// disagrees with the body.
func TestStreamableHTTPKeepsItsHeaderRules(t *testing.T) {
	base := modernServer(t)
	call := modern(1, "tools/call", `{"name":"echo","arguments":{}}`)
	for _, header := range []map[string]string{
		version,
		merge(version, map[string]string{"Mcp-Method": "tools/list"}),
		merge(version, map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "other"}),
	} {
		resp := send(t, base, req{path: "/mcp", body: call, header: header})
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%v: %s", header, body)
		assert.Contains(t, string(body), fmt.Sprint(mcp.HEADER_MISMATCH), "%v", header)
		assert.NotContains(t, string(body), "echoed")
	}
	resp := send(t, base, req{path: "/mcp", body: call, header: merge(version, map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "echo"})})
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "echoed")
}

// TestWithoutStrayVersionReadsOnlyHeaders: the version header goes only
// when no standard header is there, in any case and even empty; the
// request the guard handed on is left as it came.
func TestWithoutStrayVersionReadsOnlyHeaders(t *testing.T) {
	for _, tc := range []struct {
		header http.Header
		kept   bool
	}{
		{http.Header{"Mcp-Protocol-Version": {"2026-07-28"}}, false},
		{http.Header{"Mcp-Protocol-Version": {"2026-07-28"}, "Mcp-Session-Id": {"x"}, "Authorization": {"Bearer t"}}, false},
		{http.Header{"Mcp-Protocol-Version": {"2026-07-28"}, "Mcp-Method": {""}}, true},
		{http.Header{"Mcp-Protocol-Version": {"2026-07-28"}, "mcp-name": {"echo"}}, true},
		{http.Header{"Mcp-Protocol-Version": {"2026-07-28"}, "MCP-PARAM-REGION": {"eu"}}, true},
	} {
		var seen http.Header
		h := withoutStrayVersion(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.Header }))
		r := httptest.NewRequest(http.MethodPost, "/message?sessionId=s", strings.NewReader(toolsList))
		r.Header = tc.header.Clone()
		h.ServeHTTP(httptest.NewRecorder(), r)
		assert.Equal(t, tc.kept, seen.Get(mcp.HeaderProtocolVersion) != "", "%v", tc.header)
		assert.Equal(t, tc.header, r.Header, "the caller's request is unchanged")
		for k, v := range tc.header {
			if k != mcp.HeaderProtocolVersion {
				assert.Equal(t, v, seen[k], "other headers pass as they came")
			}
		}
	}
}
