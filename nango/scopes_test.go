package nango

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		wantNames []string
		wantStr   string
	}{
		{"bare names", "Mail.Read User.Read", []string{"Mail.Read", "User.Read"}, "Mail.Read, User.Read"},
		{"resource prefix", "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/Mail.Send", []string{"Mail.Read", "Mail.Send"}, "Mail.Read, Mail.Send"},
		{"prefix in any case", "HTTPS://GRAPH.MICROSOFT.COM/Mail.Read Https://Graph.Microsoft.com/Calendars.Read", []string{"Calendars.Read", "Mail.Read"}, "Calendars.Read, Mail.Read"},
		{"OIDC scopes dropped", "openid profile email Mail.Read", []string{"Mail.Read"}, "Mail.Read"},
		{"OIDC scopes in any case", "OpenID Profile EMAIL Mail.Read", []string{"Mail.Read"}, "Mail.Read"},
		{"duplicates (with and without prefix, any case)", "Mail.Read https://graph.microsoft.com/Mail.Read mail.read MAIL.READ", []string{"Mail.Read"}, "Mail.Read"},
		{"whitespace", "  Mail.Read\tUser.Read\n\n Contacts.Read  ", []string{"Contacts.Read", "Mail.Read", "User.Read"}, "Contacts.Read, Mail.Read, User.Read"},
		{"sorted case-insensitively", "User.Read calendars.read Mail.Send", []string{"calendars.read", "Mail.Send", "User.Read"}, "calendars.read, Mail.Send, User.Read"},
		{"bare prefix ignored", "https://graph.microsoft.com/ Mail.Read", []string{"Mail.Read"}, "Mail.Read"},
		{"empty string is known and empty", "", nil, "none"},
		{"only OIDC scopes", "openid profile email", nil, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ParseScopes(tc.raw)
			assert.True(t, s.Known())
			if tc.wantNames == nil {
				assert.Empty(t, s.Names())
			} else {
				assert.Equal(t, tc.wantNames, s.Names())
			}
			assert.Equal(t, tc.wantStr, s.String())
		})
	}
}

func TestScopesHasAndHasAny(t *testing.T) {
	s := ParseScopes("https://graph.microsoft.com/Mail.ReadWrite User.Read openid offline_access")
	tests := []struct {
		name string
		ask  []string
		want bool
	}{
		{"exact", []string{"Mail.ReadWrite"}, true},
		{"lower case", []string{"mail.readwrite"}, true},
		{"upper case", []string{"USER.READ"}, true},
		{"with resource prefix", []string{"https://graph.microsoft.com/Mail.ReadWrite"}, true},
		{"any of several", []string{"Mail.Send", "Mail.Read", "Mail.ReadWrite"}, true},
		{"none of several", []string{"Mail.Send", "Calendars.Read"}, false},
		{"no inclusion by prefix", []string{"Mail.Read"}, false},
		{"Mail.ReadWrite does not send", []string{"Mail.Send"}, false},
		{"OIDC scope is not a permission", []string{"openid"}, false},
		{"nothing asked", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, s.HasAny(tc.ask...))
			if len(tc.ask) == 1 {
				assert.Equal(t, tc.want, s.Has(tc.ask[0]))
			}
		})
	}
}

func TestUnknownScopesLetGraphDecide(t *testing.T) {
	var s Scopes
	assert.False(t, s.Known())
	assert.True(t, s.HasAny("Mail.Send"), "unknown scopes must not block a call")
	assert.True(t, s.HasAny("Calendars.ReadWrite", "Mail.Read"))
	assert.Empty(t, s.Names())
	assert.Equal(t, "unknown", s.String())
}

func TestKnownEmptyScopesHaveNothing(t *testing.T) {
	s := ParseScopes("")
	assert.True(t, s.Known())
	assert.False(t, s.HasAny("Mail.Read", "User.Read"))
	assert.Equal(t, "none", s.String())
}

func TestScopesNamesIsACopy(t *testing.T) {
	s := ParseScopes("Mail.Read Mail.Send")
	names := s.Names()
	names[0] = "Directory.ReadWrite.All"
	assert.Equal(t, []string{"Mail.Read", "Mail.Send"}, s.Names())
	assert.False(t, s.Has("Directory.ReadWrite.All"))
}
