package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// callAs invokes a tool with who in the request context, as the HTTP
// transport puts it there.
func (h *harness) callAs(who identity.Identity, name string) *mcp.CallToolResult {
	h.t.Helper()
	raw := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, name)
	msg := h.server.HandleMessage(identity.With(context.Background(), who), json.RawMessage(raw))
	resp, ok := msg.(mcp.JSONRPCResponse)
	require.True(h.t, ok, "%#v", msg)
	data, err := json.Marshal(resp.Result)
	require.NoError(h.t, err)
	res, err := mcp.ParseCallToolResult((*json.RawMessage)(&data))
	require.NoError(h.t, err)
	return res
}

func TestUserWithoutConnectionGetsAConnectLink(t *testing.T) {
	h := newHarness(t)
	alice := identity.Identity{Caller: "alice-sub", EndUser: identity.EndUser{ID: "alice-sub", Email: "alice@contoso.com"}}
	for _, tool := range []string{"get_profile", "search_mail", "list_events"} {
		res := h.callAs(alice, tool)
		require.True(t, res.IsError, tool)
		assert.Regexp(t, `^`+tool+`: no Outlook account is connected for you yet\. Connect your Outlook account: https://connect\.nango\.dev/\?session_token=\S+, then try again\.$`, textOf(res))
	}
	sessions := h.sim.ConnectSessions()
	require.Len(t, sessions, 1, "one link per user, reused across tools")
	assert.Equal(t, map[string]string{"end_user_id": "alice-sub", "end_user_email": "alice@contoso.com"}, sessions[0].Tags)
	assert.Equal(t, []string{"outlook"}, sessions[0].AllowedIntegrations)
	assert.Empty(t, h.graph("/"), "nothing reached Graph")

	// Once connected, the same user's calls act on the connection.
	alice.Connection = "sandbox"
	res := h.callAs(alice, "get_profile")
	assert.False(t, res.IsError, textOf(res))
}

func TestConnectLinkUnavailable(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.DenyReconnect = true }))
	res := h.callAs(identity.Identity{Caller: "bob", EndUser: identity.EndUser{ID: "bob"}}, "search_mail")
	require.True(t, res.IsError)
	assert.Contains(t, textOf(res), "search_mail: no Outlook account is connected for you yet, and no link to connect one could be made right now.")
	assert.Contains(t, textOf(res), "environment:connect_sessions:write")
}
