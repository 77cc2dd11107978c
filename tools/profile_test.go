package tools

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
