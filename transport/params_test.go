package transport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/prompts"
)

func promptServer() *server.MCPServer {
	s := server.NewMCPServer("t", "1", server.WithPromptCapabilities(false))
	var names []string
	for _, p := range prompts.All() {
		names = append(names, p.Tools...)
	}
	s.AddPrompts(prompts.For(names, nil)...)
	return s
}

// promptCalls are prompts/get requests and what each must answer: an
// argument error is -32602 (invalid params), never -32603.
var promptCalls = []struct {
	name, args string
	code       int // 0: a result
	message    string
}{
	{"draft_reply", `{}`, mcp.INVALID_PARAMS, `Missing argument "message_id"`},
	{"daily_briefing", `{"date":"someday"}`, mcp.INVALID_PARAMS, `Invalid argument "date": use YYYY-MM-DD`},
	{"follow_up", `{"weeks":"2"}`, mcp.INVALID_PARAMS, `Unknown argument "weeks" for prompt follow_up (known: days)`},
	{"follow_up", `{"days":"3"}`, 0, ""},
	{"no_such_prompt", `{}`, mcp.INVALID_PARAMS, "not found"}, // mcp-go's own answer
}

func promptGet(id int, name, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"prompts/get","params":{"name":%q,"arguments":%s}}`, id, name, args)
}

func checkPromptAnswer(t *testing.T, transport string, i int, a rpcAnswer) {
	t.Helper()
	c := promptCalls[i]
	where := fmt.Sprintf("%s: %s %s", transport, c.name, c.args)
	assert.EqualValues(t, i+1, a.ID, where)
	if c.code == 0 {
		assert.Nil(t, a.Error, where)
		assert.Contains(t, string(a.Result), "messages", where)
		return
	}
	if assert.NotNil(t, a.Error, where) {
		assert.Equal(t, c.code, a.Error.Code, where)
		assert.Contains(t, a.Error.Message, c.message, where)
	}
}

func TestPromptArgumentErrorsAreInvalidParamsOnEveryTransport(t *testing.T) {
	t.Run("stdio", func(t *testing.T) {
		var in strings.Builder
		for i, c := range promptCalls {
			in.WriteString(promptGet(i+1, c.name, c.args) + "\n")
		}
		var out strings.Builder
		require.NoError(t, Stdio(t.Context(), promptServer(), strings.NewReader(in.String()), &lockedWriter{w: &out}, StdioConfig{}))
		got := answers(t, out.String())
		require.Len(t, got, len(promptCalls), out.String())
		byID := map[float64]rpcAnswer{}
		for _, a := range got {
			byID[a.ID.(float64)] = a
		}
		for i := range promptCalls {
			checkPromptAnswer(t, "stdio", i, byID[float64(i+1)])
		}
	})

	h, err := Handler(promptServer(), HTTPConfig{})
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	t.Run("streamable HTTP", func(t *testing.T) {
		for i, c := range promptCalls {
			resp := send(t, ts.URL, req{path: "/mcp", body: promptGet(i+1, c.name, c.args)})
			require.Equal(t, http.StatusOK, resp.StatusCode)
			body, _ := io.ReadAll(resp.Body)
			var a rpcAnswer
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				_, data, _ := strings.Cut(string(body), "data: ")
				body = []byte(strings.TrimSpace(data))
			}
			require.NoError(t, json.Unmarshal(body, &a), string(body))
			checkPromptAnswer(t, "streamable HTTP", i, a)
		}
	})

	t.Run("SSE", func(t *testing.T) {
		stream, endpoint := sessionEndpoint(t, ts.URL, nil)
		events := bufio.NewScanner(stream.Body)
		for i, c := range promptCalls {
			resp := send(t, ts.URL, req{path: endpoint, body: promptGet(i+1, c.name, c.args)})
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			var a rpcAnswer
			for events.Scan() {
				if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
					require.NoError(t, json.Unmarshal([]byte(data), &a), data)
					break
				}
			}
			checkPromptAnswer(t, "SSE", i, a)
		}
	})
}
