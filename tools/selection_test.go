package tools

import (
	"context"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

func names(tools []Tool) []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Name
	}
	return out
}

func toolsetTools(set string) []Tool {
	var out []Tool
	for _, t := range All() {
		if t.Toolset == set {
			out = append(out, t)
		}
	}
	return out
}

func toolset(set string) []string { return names(toolsetTools(set)) }

func readOnly(tools []Tool) []string {
	var out []string
	for _, t := range tools {
		if t.Hints.ReadOnly {
			out = append(out, t.Name)
		}
	}
	return out
}

func TestSelectToolsets(t *testing.T) {
	// The inventory's shape, stated once: the selections below follow from it.
	require.Equal(t, []string{"search_mail", "get_message", "send_mail", "reply_to_message", "forward_message", "create_draft", "send_draft",
		"list_attachments", "read_attachment", "list_mail_folders", "get_thread", "move_message", "update_message", "delete_message"}, toolset(Mail))
	require.Equal(t, []string{"list_events", "list_calendars", "get_event", "create_event", "update_event", "cancel_event", "respond_to_event",
		"get_free_busy", "find_meeting_times"}, toolset(Calendar))
	require.Equal(t, []string{"find_contacts", "get_contact", "create_contact"}, toolset(Contacts))
	require.Equal(t, []string{"get_mailbox_settings", "set_automatic_replies", "get_profile"}, toolset(Mailbox))

	for _, tc := range []struct {
		sel  Selection
		want []string
	}{
		{Selection{}, names(All())},
		{Selection{Toolsets: []string{Mail}}, append(toolset(Mail), "get_profile")},
		{Selection{Toolsets: []string{Calendar, Contacts}}, append(append(toolset(Calendar), toolset(Contacts)...), "get_profile")},
		{Selection{Tools: []string{"search_mail"}, Toolsets: []string{Calendar}}, []string{"search_mail", "get_profile"}},
		{Selection{ReadOnly: true}, readOnly(All())},
		{Selection{Toolsets: []string{Mail}, ReadOnly: true}, append(readOnly(toolsetTools(Mail)), "get_profile")},
	} {
		got, err := Select(All(), tc.sel)
		require.NoError(t, err)
		assert.Equal(t, tc.want, names(got), "%+v", tc.sel)
	}
	_, err := Select(All(), Selection{Toolsets: []string{"mail", "tasks"}})
	assert.EqualError(t, err, `unknown toolset "tasks" (known: mail, calendar, contacts, mailbox)`)
	_, err = Select(All(), Selection{Tools: []string{"delete_everything"}})
	assert.ErrorContains(t, err, `unknown tool "delete_everything" (known: search_mail,`)
}

func TestEveryToolHasAToolset(t *testing.T) {
	for _, tool := range All() {
		assert.Contains(t, Toolsets, tool.Toolset, tool.Name)
	}
}

func TestReadOnlyServerNeitherListsNorRunsWriteTools(t *testing.T) {
	readOnly, err := Select(All(), Selection{ReadOnly: true})
	require.NoError(t, err)
	h := newHarness(t, withTools(readOnly))
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	for _, tool := range res.Tools {
		assert.True(t, *tool.Annotations.ReadOnlyHint, tool.Name)
	}
	_, err = h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{
		Name: "send_mail", Arguments: map[string]any{"to": []string{"a@contoso.com"}, "subject": "s", "body": "b"}}})
	assert.Error(t, err, "a write tool cannot be called")
	assert.Empty(t, h.sim.Sent())
}

func TestHideUnavailableListsOnlyGrantedTools(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.ReadBasic"), withDeps(func(d *Deps) { d.HideUnavailable = true }))
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	var listed []string
	for _, tool := range res.Tools {
		listed = append(listed, tool.Name)
	}
	assert.ElementsMatch(t, []string{"search_mail", "list_mail_folders", "get_profile"}, listed)
	_, err = h.client.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{
		Name: "send_mail", Arguments: map[string]any{"to": []string{"a@contoso.com"}, "subject": "s", "body": "b"}}})
	assert.Error(t, err, "a hidden tool cannot be called")
	assert.Empty(t, h.graph("/v1.0/me/sendMail"))
}

func TestHideUnavailableHidesNothingWhenScopesAreUnknown(t *testing.T) {
	h := newHarness(t, withScopes("User.Read"), withSim(func(o *sim.Options) { o.HideCredentials = true }),
		withDeps(func(d *Deps) { d.HideUnavailable = true }))
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	assert.Len(t, res.Tools, len(All()), "unknown scopes: every tool stays and answers for itself")
}
