package nango_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// newSimClient is a client of a fresh simulated Nango.
func newSimClient(t *testing.T, opts sim.Options) (*nango.Client, *sim.Sim) {
	t.Helper()
	fixture, err := os.ReadFile("../testdata/mailbox.json")
	require.NoError(t, err)
	s, err := sim.New(fixture, opts)
	require.NoError(t, err)
	c, err := nango.New(nango.Config{Host: "http://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook", HTTPClient: s.Client()})
	require.NoError(t, err)
	return c, s
}

func TestFindConnectionsByTag(t *testing.T) {
	c, s := newSimClient(t, sim.Options{ConnectionID: "c-41"})
	ctx := context.Background()

	found, err := c.FindConnections(ctx, map[string]string{"end_user_id": "alice"})
	require.NoError(t, err, "the query passes Nango's strict schema")
	assert.Empty(t, found, "an untagged connection is not anyone's")

	s.SetConnectionTags(map[string]string{"end_user_id": "alice", "end_user_email": "alice@contoso.com"})
	found, err = c.FindConnections(ctx, map[string]string{"end_user_id": "alice"})
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, "c-41", found[0].ConnectionID)
	assert.Equal(t, "outlook", found[0].IntegrationID)
	assert.Equal(t, "alice@contoso.com", found[0].Tags["end_user_email"])

	found, err = c.FindConnections(ctx, map[string]string{"end_user_id": "bob"})
	require.NoError(t, err)
	assert.Empty(t, found, "tags must match exactly")

	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "/connections", last.Path)
	assert.Equal(t, "bob", last.Query.Get("tags[end_user_id]"))
	assert.Equal(t, "outlook", last.Query.Get("integrationId"))
	assert.Equal(t, "Bearer "+sim.DefaultSecretKey, last.NangoHeader.Get("Authorization"))
}

func TestFindConnectionsTagValueIsEscaped(t *testing.T) {
	c, s := newSimClient(t, sim.Options{})
	odd := "a&integrationId=other tags[x]=${y}"
	s.SetConnectionTags(map[string]string{"end_user_id": odd})
	found, err := c.FindConnections(context.Background(), map[string]string{"end_user_id": odd})
	require.NoError(t, err)
	assert.Len(t, found, 1, "the value arrives whole, as one tag")
	reqs := s.Requests()
	assert.Equal(t, []string{"outlook"}, reqs[len(reqs)-1].Query["integrationId"])
}

func TestConnectLink(t *testing.T) {
	c, s := newSimClient(t, sim.Options{})
	ctx := context.Background()
	link, err := c.ConnectLink(ctx, nango.EndUser{ID: "alice", Email: "alice@contoso.com"})
	require.NoError(t, err)
	assert.Contains(t, link, "https://connect.nango.dev/?session_token=")

	sessions := s.ConnectSessions()
	require.Len(t, sessions, 1)
	assert.Equal(t, map[string]string{"end_user_id": "alice", "end_user_email": "alice@contoso.com"}, sessions[0].Tags)
	assert.Equal(t, []string{"outlook"}, sessions[0].AllowedIntegrations)
	assert.Empty(t, sessions[0].EndUserID, "tags only: end_user is deprecated")

	again, err := c.ConnectLink(ctx, nango.EndUser{ID: "alice", Email: "alice@contoso.com"})
	require.NoError(t, err)
	assert.Equal(t, link, again, "one link per user while it is fresh")
	assert.Len(t, s.ConnectSessions(), 1)

	_, err = c.ConnectLink(ctx, nango.EndUser{ID: "bob"})
	require.NoError(t, err)
	sessions = s.ConnectSessions()
	require.Len(t, sessions, 2)
	assert.Equal(t, map[string]string{"end_user_id": "bob"}, sessions[1].Tags, "no email tag when none is known")
}

func TestConnectLinkRefused(t *testing.T) {
	c, _ := newSimClient(t, sim.Options{DenyReconnect: true})
	_, err := c.ConnectLink(context.Background(), nango.EndUser{ID: "alice"})
	e, ok := nango.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 403, e.Status)
}
