package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filler yields n bytes of 'a' without holding them.
type filler struct{ n int }

func (f *filler) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), f.n)
	for i := range p[:n] {
		p[i] = 'a'
	}
	f.n -= n
	return n, nil
}

func echoServer() *server.MCPServer {
	s := server.NewMCPServer("t", "1", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("echo", mcp.WithReadOnlyHintAnnotation(true)),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("echoed"), nil
		})
	return s
}

type rpcAnswer struct {
	ID     any             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func answers(t *testing.T, out string) []rpcAnswer {
	t.Helper()
	var all []rpcAnswer
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a rpcAnswer
		require.NoError(t, json.Unmarshal([]byte(line), &a), line)
		all = append(all, a)
	}
	return all
}

// serveLines runs Stdio on input and returns what it wrote and how many
// bytes it allocated on the way.
func serveLines(t *testing.T, limit int, input io.Reader) (string, uint64) {
	t.Helper()
	s := echoServer()
	var out bytes.Buffer
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := Stdio(t.Context(), s, input, &out, StdioConfig{MaxRequestBytes: limit})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	return out.String(), after.TotalAlloc - before.TotalAlloc
}

func hugeCall(id string, size int) io.Reader {
	return io.MultiReader(
		strings.NewReader(`{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"echo","arguments":{"text":"`),
		&filler{size},
		strings.NewReader(`"}}}`+"\n"))
}

const listTools = `{"jsonrpc":"2.0","id":8,"method":"tools/list"}` + "\n"

func TestStdioRefusesAnOversizedLineAndServesTheNext(t *testing.T) {
	const line = 20 << 20 // the 20 MB line that reached 213 MB RSS
	out, allocated := serveLines(t, 0, io.MultiReader(hugeCall("7", line), strings.NewReader(listTools)))

	got := answers(t, out)
	require.Len(t, got, 2, out)
	assert.EqualValues(t, 7, got[0].ID, "the id found in the line's first bytes")
	require.NotNil(t, got[0].Error)
	assert.Equal(t, mcp.INVALID_REQUEST, got[0].Error.Code)
	assert.Equal(t, "request too large: the limit is 8 MiB per message", got[0].Error.Message)
	assert.EqualValues(t, 8, got[1].ID)
	assert.Contains(t, string(got[1].Result), `"echo"`, "the next line is served")
	// At most the limit is held while the line streams past.
	assert.Less(t, allocated, uint64(12<<20), "allocated %d MiB for a %d MiB line", allocated>>20, line>>20)
}

func TestStdioMemoryFollowsTheLimitNotTheLine(t *testing.T) {
	out, allocated := serveLines(t, 1<<20, io.MultiReader(hugeCall(`"call-1"`, 20<<20), strings.NewReader(listTools)))
	got := answers(t, out)
	require.Len(t, got, 2, out)
	assert.Equal(t, "call-1", got[0].ID)
	assert.Equal(t, "request too large: the limit is 1 MiB per message", got[0].Error.Message)
	assert.Less(t, allocated, uint64(4<<20), "allocated %d KiB", allocated>>10)
}

func TestStdioLinesAtTheLimitPass(t *testing.T) {
	call := func(id, text string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + text + `"}}}`
	}
	exact := call("1", "")
	limit := len(exact) + 100
	fits := call("2", strings.Repeat("x", limit-len(exact)))
	over := call("3", strings.Repeat("x", limit-len(exact)+1))
	require.Len(t, fits, limit)
	out, _ := serveLines(t, limit, strings.NewReader(fits+"\n"+over+"\n"+call("4", "ok")+"\n"))
	got := answers(t, out)
	require.Len(t, got, 3, out)
	byID := map[float64]rpcAnswer{}
	for _, a := range got {
		byID[a.ID.(float64)] = a
	}
	assert.Nil(t, byID[2].Error, "a line of exactly the limit passes")
	assert.Contains(t, string(byID[2].Result), "echoed")
	if assert.NotNil(t, byID[3].Error, "one byte more is refused") {
		assert.Equal(t, mcp.INVALID_REQUEST, byID[3].Error.Code)
	}
	assert.Contains(t, string(byID[4].Result), "echoed")
}

func TestPeekID(t *testing.T) {
	for prefix, want := range map[string]string{
		`{"jsonrpc":"2.0","id":42,"method":"x","params":{"a":"`:      `42`,
		`{"id":"abc","jsonrpc":"2.0"`:                                `"abc"`,
		`{"method":"x","params":{"id":9,"text":"aaa`:                 ``, // a nested id is not the message's
		`{"method":"x","params":{"id":9},"id":10,"jsonrpc":"2.0"`:    `10`,
		`{"jsonrpc":"2.0","id":null,"method":"x"`:                    ``,
		`{"jsonrpc":"2.0","method":"tools/call","params":{"text":"a`: ``,
		`[{"id":1}`: ``,
		`garbage`:   ``,
	} {
		assert.Equal(t, want, string(peekID([]byte(prefix))), prefix)
	}
}
