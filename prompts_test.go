package main

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/prompts"
	"github.com/outlook-mcp/outlook-mcp/tools"
)

// The server lists a prompt exactly when it lists every tool the prompt
// names, whatever the tool selection, and with --hide-unavailable whatever
// the granted scopes. (prompts/prompts_test.go checks the prompts
// themselves, and that every tool they name exists.)
func TestServerOffersThePromptsItsToolsSupport(t *testing.T) {
	const fewScopes = "User.Read Mail.Read Calendars.Read MailboxSettings.Read"
	for name, o := range map[string]options{
		"all":                  {},
		"read-only":            {selection: tools.Selection{ReadOnly: true}},
		"mail":                 {selection: tools.Selection{Toolsets: []string{tools.Mail}}},
		"calendar":             {selection: tools.Selection{Toolsets: []string{tools.Calendar}}},
		"hidden by scopes":     {hide: true, sandboxScopes: fewScopes},
		"scopes, not selected": {sandboxScopes: fewScopes},
	} {
		t.Run(name, func(t *testing.T) {
			o.sandbox = true
			if o.sandboxScopes == "" {
				o.sandboxScopes = "User.Read Mail.ReadWrite Mail.Send Calendars.ReadWrite Calendars.ReadWrite.Shared Contacts.ReadWrite People.Read MailboxSettings.ReadWrite"
			}
			ctx := callCtx(t)
			c, session := promptClient(t, ctx, o)
			assert.NotNil(t, session.Capabilities.Prompts, "the server announces prompts")
			toolList, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			require.NoError(t, err)
			var offered []string
			for _, tool := range toolList.Tools {
				offered = append(offered, tool.Name)
			}
			var want []string
			for _, p := range prompts.All() {
				if !slices.ContainsFunc(p.Tools, func(tool string) bool { return !slices.Contains(offered, tool) }) {
					want = append(want, p.Name)
				}
			}
			promptList, err := c.ListPrompts(ctx, mcp.ListPromptsRequest{})
			require.NoError(t, err)
			var got []string
			for _, p := range promptList.Prompts {
				got = append(got, p.Name)
			}
			assert.ElementsMatch(t, want, got)
			if name == "hidden by scopes" {
				assert.Equal(t, []string{"daily_briefing", "follow_up"}, got, "read-only scopes: only the prompts that read")
			}
		})
	}
}

// With the connection's scopes known, a prompt whose tools lack one says so
// before anything else; with every scope it says nothing of the kind.
func TestPromptNamesTheScopesTheConnectionLacks(t *testing.T) {
	for scopes, want := range map[string]string{
		"User.Read Mail.ReadWrite": "Before you start: this connection lacks Mail.Send (needed by send_draft); tell the user first",
		// Sending could reply, but the prompt saves a draft first.
		"User.Read Mail.Read Mail.Send":      "Before you start: this connection lacks Mail.ReadWrite (needed by reply_to_message draft_only, delete_message); tell the user first",
		"User.Read Mail.ReadWrite Mail.Send": "",
	} {
		ctx := callCtx(t)
		c, _ := promptClient(t, ctx, options{sandbox: true, sandboxScopes: scopes})
		res, err := c.GetPrompt(ctx, mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "draft_reply", Arguments: map[string]string{"message_id": "AAMkAGI2"}}})
		require.NoError(t, err)
		text := res.Messages[0].Content.(mcp.TextContent).Text
		if want == "" {
			assert.NotContains(t, text, "Before you start", scopes)
		} else {
			assert.True(t, strings.HasPrefix(text, want), "%s: %s", scopes, text)
		}
	}
}

// promptClient connects mcp-go's in-process client to the server o makes.
func promptClient(t *testing.T, ctx context.Context, o options) (*client.Client, *mcp.InitializeResult) {
	srv, _, err := newServer(o, getenv(nil), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	c, err := client.NewInProcessClient(srv)
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() { _ = c.Close() })
	session, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ProtocolVersion: mcp.LATEST_PROTOCOL_VERSION}})
	require.NoError(t, err)
	return c, session
}
