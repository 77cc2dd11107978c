package tools

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

func TestFindContactsSearchesEveryPermittedSource(t *testing.T) {
	h := newHarness(t)
	var res FindContactsResult
	h.ok("find_contacts", map[string]any{"query": "a", "limit": 50}, &res)
	sources := map[string]bool{}
	seen := map[string]bool{}
	for _, c := range res.Contacts {
		sources[c.Source] = true
		assert.NotEmpty(t, c.Email)
		assert.False(t, seen[c.Email], "%s listed twice", c.Email)
		seen[c.Email] = true
	}
	assert.Equal(t, map[string]bool{"contacts": true, "people": true, "directory": true}, sources)

	assert.Equal(t, "eventual", h.lastGraph("/v1.0/users").Header.Get("ConsistencyLevel"), "directory search needs it")
	assert.Contains(t, h.lastGraph("/v1.0/me/contacts").Query.Get("$filter"), "startswith(displayName,'a')")
	assert.Equal(t, `"a"`, h.lastGraph("/v1.0/me/people").Query.Get("$search"))
}

func TestFindContactsUsesOnlyGrantedSources(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Contacts.Read"))
	var res FindContactsResult
	text := h.ok("find_contacts", map[string]any{"query": "a"}, &res)
	for _, c := range res.Contacts {
		assert.Equal(t, "contacts", c.Source)
	}
	assert.Empty(t, h.graph("/v1.0/me/people"))
	assert.Empty(t, h.graph("/v1.0/users"))
	assert.Contains(t, text, "people not searched: needs People.Read")
	assert.Contains(t, text, "directory not searched: needs User.ReadBasic.All")
}

func TestFindContactsByAddressAndHostileQuery(t *testing.T) {
	h := newHarness(t)
	var all FindContactsResult
	h.ok("find_contacts", map[string]any{"query": "a", "limit": 50}, &all)
	var personal string
	for _, c := range all.Contacts {
		if c.Source == "contacts" {
			personal = c.Email
			break
		}
	}
	require.NotEmpty(t, personal)
	var res FindContactsResult
	h.ok("find_contacts", map[string]any{"query": personal}, &res)
	require.NotEmpty(t, res.Contacts)
	assert.Equal(t, personal, res.Contacts[0].Email)
	assert.Equal(t, "emailAddresses/any(a:a/address eq '"+personal+"')", h.lastGraph("/v1.0/me/contacts").Query.Get("$filter"))

	h.ok("find_contacts", map[string]any{"query": `O'Brien" OR "mail:x`}, nil)
	assert.Contains(t, h.lastGraph("/v1.0/me/contacts").Query.Get("$filter"), `startswith(displayName,'O''Brien" OR "mail:x')`)
	assert.Equal(t, `"displayName:O'Brien OR mail:x" OR "mail:O'Brien OR mail:x"`, h.lastGraph("/v1.0/users").Query.Get("$search"), "a quote cannot close the clause")
	assert.Equal(t, `"O'Brien OR mail:x"`, h.lastGraph("/v1.0/me/people").Query.Get("$search"))
}

func TestFindContactsOnAPersonalAccountSkipsTheDirectory(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.PersonalAccount = true }))
	var res FindContactsResult
	text := h.ok("find_contacts", map[string]any{"query": "a"}, &res)
	assert.NotEmpty(t, res.Contacts)
	assert.Contains(t, text, "directory not searched")
}

func TestFindContactsNeedsAQuery(t *testing.T) {
	h := newHarness(t)
	assert.Contains(t, h.fails("find_contacts", map[string]any{"query": "  "}), `"query": is required`)
	assert.Contains(t, h.fails("find_contacts", map[string]any{}), `"query": is required`)
}
