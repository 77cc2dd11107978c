package sim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsersHaveTheirOwnMailboxAndScopes(t *testing.T) {
	s := newSim(t, func(o *Options) {
		o.Users = []User{{ConnectionID: "ada", Name: "Ada Lovelace", Scopes: []string{"User.Read", "Mail.ReadBasic"}}, {ConnectionID: "alan", Name: "Alan Turing"}}
	})
	as := func(conn, method, target string) response {
		return serve(s, method, target, "", "Authorization", "Bearer "+DefaultSecretKey, "Provider-Config-Key", "outlook", "Connection-Id", conn)
	}
	for conn, want := range map[string]string{"sandbox": "priya.raman@contoso.com", "ada": "ada.lovelace@contoso.com", "alan": "alan.turing@contoso.com"} {
		me := as(conn, http.MethodGet, "/proxy/v1.0/me").json(t)
		assert.Equal(t, want, me["mail"], conn)
		assert.Equal(t, want, me["userPrincipalName"], conn)
	}
	assert.NotEqual(t, as("ada", http.MethodGet, "/proxy/v1.0/me").json(t)["id"], as("alan", http.MethodGet, "/proxy/v1.0/me").json(t)["id"])

	subjects := func(conn string) []string {
		r := as(conn, http.MethodGet, "/proxy/v1.0/me/messages?$select=subject&$top=50")
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		var out []string
		for _, m := range r.values(t) {
			out = append(out, m["subject"].(string))
		}
		return out
	}
	for _, subject := range subjects("alan") {
		assert.True(t, strings.HasPrefix(subject, "[Alan Turing] "), subject)
	}
	for _, subject := range subjects("sandbox") {
		assert.NotContains(t, subject, "Alan Turing", subject)
		assert.NotContains(t, subject, "Ada Lovelace", subject)
	}
	assert.Equal(t, len(subjects("sandbox")), len(subjects("ada")))

	// Each connection's scopes, in Nango's answer and at Graph.
	assert.Contains(t, string(as("ada", http.MethodGet, "/connections/ada?provider_config_key=outlook").body), "Mail.ReadBasic")
	assert.NotContains(t, string(as("ada", http.MethodGet, "/connections/ada?provider_config_key=outlook").body), "Mail.Send")
	assert.Contains(t, string(as("alan", http.MethodGet, "/connections/alan?provider_config_key=outlook").body), "Mail.Send")
	r := as("ada", http.MethodGet, "/proxy/v1.0/me/messages/"+s.box.messages[0].id+"?$select=body")
	assert.Equal(t, http.StatusForbidden, r.status, "ada has no Mail.Read")
	assert.Equal(t, http.StatusOK, as("alan", http.MethodGet, "/proxy/v1.0/me/messages/"+s.box.messages[0].id+"?$select=body").status)

	// A change in one mailbox stays there.
	s.User("ada").SetScopes("User.Read")
	assert.Equal(t, http.StatusForbidden, as("ada", http.MethodGet, "/proxy/v1.0/me/messages").status)
	assert.Equal(t, http.StatusOK, as("alan", http.MethodGet, "/proxy/v1.0/me/messages").status)

	// An unknown connection is Nango's unknown connection.
	r = as("eve", http.MethodGet, "/proxy/v1.0/me")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "Failed to get connection", r.message(t))
	assert.Equal(t, http.StatusNotFound, as("eve", http.MethodGet, "/connections/eve?provider_config_key=outlook").status)
	assert.Nil(t, s.User("eve"))
	assert.Len(t, s.Requests(), 18, "every connection's requests are recorded by the environment")
}

func TestUsersAreValidated(t *testing.T) {
	for _, users := range [][]User{
		{{ConnectionID: "", Name: "A B"}},
		{{ConnectionID: "sandbox", Name: "A B"}},
		{{ConnectionID: "a", Name: "A B"}, {ConnectionID: "a", Name: "C D"}},
		{{ConnectionID: "a", Name: " "}},
	} {
		_, err := New(fixtureData, Options{Users: users})
		assert.Error(t, err, "%+v", users)
	}
}
