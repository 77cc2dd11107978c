package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedServer has a tool "wait" that runs until gate closes (or its context
// ends), and a tool "quick".
func gatedServer(gate <-chan struct{}, running *atomic.Int32) (*server.MCPServer, *calls) {
	s := server.NewMCPServer("t", "1", server.WithToolCapabilities(false))
	s.AddTool(mcp.NewTool("wait"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		running.Add(1)
		defer running.Add(-1)
		select {
		case <-gate:
			return mcp.NewToolResultText("done"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	s.AddTool(mcp.NewTool("quick", mcp.WithReadOnlyHintAnnotation(true)),
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("quick"), nil
		})
	return s, newCalls(s, nil)
}

// call runs one tools/call as who and returns its text, "isError: " plus
// its text, or "error: " plus a JSON-RPC error.
func call(s *server.MCPServer, who Caller, tool string) string {
	ctx := WithCaller(context.Background(), who)
	raw := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":%q}}`, tool)
	switch m := s.HandleMessage(ctx, []byte(raw)).(type) {
	case mcp.JSONRPCResponse:
		data, _ := json.Marshal(m.Result)
		var res struct {
			Content []struct{ Text string }
			IsError bool
		}
		_ = json.Unmarshal(data, &res)
		if len(res.Content) == 0 {
			return string(data)
		}
		if res.IsError {
			return "isError: " + res.Content[0].Text
		}
		return res.Content[0].Text
	case mcp.JSONRPCError:
		return "error: " + m.Error.Message
	default:
		return fmt.Sprintf("%T", m)
	}
}

func TestCallsOneCallerCannotQueueAheadOfAnother(t *testing.T) {
	gate := make(chan struct{})
	var running atomic.Int32
	s, _ := gatedServer(gate, &running)

	// A flood: 4 run, 8 wait, the other 8 are refused at once.
	results := make(chan string, 20)
	for range 20 {
		go func() { results <- call(s, "flooder", "wait") }()
	}
	for range 8 {
		select {
		case got := <-results:
			assert.Equal(t, "isError: "+msgTooMany, got)
		case <-time.After(5 * time.Second):
			t.Fatal("calls beyond the queue were not refused at once")
		}
	}
	assert.Eventually(t, func() bool { return running.Load() == callsPerCaller }, 5*time.Second, time.Millisecond)

	// Another caller is not behind the flood; the flooder's next call is refused.
	assert.Equal(t, "quick", call(s, "other", "quick"))
	assert.Equal(t, "isError: "+msgTooMany, call(s, "flooder", "quick"))
	assert.EqualValues(t, callsPerCaller, running.Load(), "never more than 4 running for one caller")

	close(gate)
	for range 12 {
		assert.Equal(t, "done", <-results, "every admitted call runs")
	}
	assert.Equal(t, "quick", call(s, "flooder", "quick"), "the flooder may call again once answered")
}

func TestCallsDrainLetsCallsInFlightAnswer(t *testing.T) {
	gate := make(chan struct{})
	var running atomic.Int32
	s, calls := gatedServer(gate, &running)
	result := make(chan string, 1)
	go func() { result <- call(s, "a", "wait") }()
	require.Eventually(t, func() bool { return running.Load() == 1 }, 5*time.Second, time.Millisecond)

	time.AfterFunc(300*time.Millisecond, func() { close(gate) })
	start := time.Now()
	drained := make(chan bool, 1)
	go func() { drained <- calls.drain(10*time.Second, true) }()
	require.Eventually(t, func() bool { return refusing(calls) }, 5*time.Second, time.Millisecond)
	assert.Equal(t, "isError: "+msgShuttingDown, call(s, "b", "quick"), "a new call during the drain is refused, unexecuted")

	assert.True(t, <-drained)
	assert.Equal(t, "done", <-result)
	assert.Less(t, time.Since(start), 2*time.Second, "drain returns when the call answers")
}

func TestCallsDrainEndsWithTheGracePeriod(t *testing.T) {
	var running atomic.Int32
	s, calls := gatedServer(make(chan struct{}), &running) // never answers by itself
	result := make(chan string, 1)
	go func() { result <- call(s, "a", "wait") }()
	require.Eventually(t, func() bool { return running.Load() == 1 }, 5*time.Second, time.Millisecond)

	start := time.Now()
	assert.False(t, calls.drain(200*time.Millisecond, true))
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Contains(t, <-result, "context canceled", "the grace period's end cancels the call")
}

func TestCallerOf(t *testing.T) {
	assert.Equal(t, Caller(""), CallerOf(context.Background()))
	assert.Equal(t, Caller("user:ann"), CallerOf(WithCaller(context.Background(), "user:ann")))
}

func refusing(c *calls) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refusing
}
