package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// identityServer is a server without a default connection (nango mode),
// over a simulator with users ada and alan, and a Nango client that
// remembers at most maxConns idle connections.
func identityServer(t *testing.T, maxConns int) (func(ctx context.Context, tool string) (string, bool), *nango.Client) {
	s, err := sim.New(mailbox(t), sim.Options{Now: func() time.Time { return testNow }, Users: []sim.User{
		{ConnectionID: "ada", Name: "Ada Lovelace"},
		{ConnectionID: "alan", Name: "Alan Turing", Scopes: []string{"Mail.ReadBasic"}},
	}})
	require.NoError(t, err)
	client, err := nango.New(nango.Config{Host: "https://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook",
		HTTPClient: s.Client(), Backoff: time.Millisecond, MaxConnections: maxConns})
	require.NoError(t, err)
	srv := NewServer("test", Deps{Nango: client}, All())
	call := func(ctx context.Context, tool string) (string, bool) {
		raw := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":%q,"arguments":{}}}`, tool)
		resp, ok := srv.HandleMessage(ctx, []byte(raw)).(mcp.JSONRPCResponse)
		require.True(t, ok)
		data, _ := json.Marshal(resp.Result)
		var res struct {
			Content []struct{ Text string }
			IsError bool
		}
		require.NoError(t, json.Unmarshal(data, &res))
		return res.Content[0].Text, res.IsError
	}
	return call, client
}

func TestACallActsOnTheConnectionOfItsIdentity(t *testing.T) {
	call, _ := identityServer(t, 0)
	as := func(conn string) context.Context {
		return identity.With(context.Background(), identity.Identity{Caller: "test", Connection: conn})
	}
	text, isErr := call(as("ada"), "get_profile")
	assert.False(t, isErr, text)
	assert.Contains(t, text, "Ada Lovelace <ada.lovelace@contoso.com>")
	text, isErr = call(as("alan"), "get_profile")
	assert.True(t, isErr, "alan has no User.Read")
	assert.Contains(t, text, `Nango connection "alan"`)
	assert.NotContains(t, text, `"ada"`, "another user's connection is never named")
	assert.NotContains(t, text, "Ada")

	// Without a default connection, a call that names none is refused: it
	// never lands in someone else's mailbox.
	for _, ctx := range []context.Context{context.Background(), identity.With(context.Background(), identity.Identity{Caller: "test"})} {
		text, isErr = call(ctx, "get_profile")
		assert.True(t, isErr)
		assert.Contains(t, text, "names no Nango connection")
		assert.Contains(t, text, "connection-id")
	}
}

// Calls release the connections they hold: users who come and go leave at
// most MaxConnections behind.
func TestCallsOfManyUsersLeaveBoundedConnections(t *testing.T) {
	call, client := identityServer(t, 50)
	for i := range 1000 {
		ctx := identity.With(context.Background(), identity.Identity{Caller: "test", Connection: fmt.Sprintf("user-%d", i)})
		text, isErr := call(ctx, "search_mail")
		require.True(t, isErr)
		require.Contains(t, text, fmt.Sprintf(`no connection "user-%d"`, i))
	}
	assert.LessOrEqual(t, client.Connections(), 50)
}
