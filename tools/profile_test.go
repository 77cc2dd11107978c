package tools

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

func TestGetProfileReportsUserScopesAndUsableTools(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.ReadBasic", "Calendars.Read", "offline_access"))
	var p ProfileResult
	text := h.ok("get_profile", nil, &p)
	assert.NotEmpty(t, p.Name)
	assert.Contains(t, p.Email, "@")
	assert.Equal(t, "sandbox", p.ConnectionID)
	assert.Equal(t, "outlook", p.IntegrationID)
	assert.True(t, p.ScopesKnown)
	assert.Equal(t, []string{"Calendars.Read", "Mail.ReadBasic", "offline_access", "User.Read"}, p.GrantedScopes)

	access := map[string]ToolAccess{}
	for _, a := range p.Tools {
		access[a.Name] = a
	}
	require.Len(t, access, len(All()))
	assert.True(t, access["search_mail"].Usable)
	assert.True(t, access["list_events"].Usable)
	assert.Equal(t, ToolAccess{Name: "get_message", Toolset: "mail", MissingScope: "Mail.Read"}, access["get_message"])
	assert.Equal(t, ToolAccess{Name: "send_mail", Toolset: "mail", MissingScope: "Mail.Send"}, access["send_mail"])
	assert.Contains(t, text, "send_mail (needs Mail.Send)")
	assert.Contains(t, text, "Toolsets: mail, calendar, contacts, mailbox.")
}

func TestGetProfileReportsEachModesLeastScope(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.Read"))
	var p ProfileResult
	text := h.ok("get_profile", nil, &p)
	var reply ToolAccess
	for _, a := range p.Tools {
		if a.Name == "reply_to_message" {
			reply = a
		}
	}
	// A draft reply needs only Mail.ReadWrite: that is the least privilege.
	assert.Equal(t, "Mail.ReadWrite", reply.MissingScope)
	assert.Equal(t, []ModeAccess{
		{Purpose: "to save a draft (draft_only)", MissingScope: "Mail.ReadWrite"},
		{Purpose: "to send", MissingScope: "Mail.Send"},
	}, reply.Modes)
	assert.Contains(t, text, "reply_to_message (needs Mail.ReadWrite to save a draft (draft_only), or Mail.Send to send)")
	assert.NotContains(t, text, "reply_to_message (needs Mail.Send)")

	h = newHarness(t, withScopes("User.Read", "Mail.ReadWrite"))
	text = h.ok("get_profile", nil, &p)
	assert.Contains(t, text, "reply_to_message (to send needs Mail.Send)")
}

func TestGetProfileNamesTheLeastScopesToAddAtOnce(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.Read", "Calendars.Read"))
	var p ProfileResult
	text := h.ok("get_profile", nil, &p)
	require.NotEmpty(t, p.ScopesToAdd)
	// Mail.ReadWrite covers what Mail.Read-or-ReadWrite tools need: no scope is redundant.
	assert.Contains(t, p.ScopesToAdd, "Mail.ReadWrite")
	assert.Contains(t, p.ScopesToAdd, "Mail.Send")
	assert.NotContains(t, p.ScopesToAdd, "Mail.Read")
	for _, s := range p.ScopesToAdd {
		rest := slices.DeleteFunc(slices.Clone(p.ScopesToAdd), func(x string) bool { return x == s })
		g := nango.ParseScopes(strings.Join(append(p.GrantedScopes, rest...), " "))
		assert.NotEmpty(t, scopesToAdd(g, All()), "%s is redundant", s)
	}
	all := nango.ParseScopes(strings.Join(append(p.GrantedScopes, p.ScopesToAdd...), " "))
	assert.Empty(t, scopesToAdd(all, All()))
	assert.Contains(t, text, "To use every offered tool, add: "+strings.Join(p.ScopesToAdd, ", ")+".")

	h = newHarness(t, withScopes(all.Names()...))
	text = h.ok("get_profile", nil, &p)
	assert.Equal(t, []string{}, p.ScopesToAdd)
	assert.Contains(t, text, "To use every offered tool, add: nothing, all are usable.")
}
