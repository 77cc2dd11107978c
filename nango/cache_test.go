package nango

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEachIntegrationHasItsOwnConnections(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")))
	c := newClient(t, f.srv.URL)
	eu, release := c.Use("outlook-eu", "alice")
	defer release()
	def, release2 := c.Use("", "alice")
	defer release2()
	assert.NotSame(t, eu, def, "same id, other integration: another user")
	assert.Same(t, def, c.Connection("alice"), `"" is the default integration`)
	assert.Equal(t, "outlook-eu", eu.IntegrationID())
	assert.Equal(t, testIntegration, def.IntegrationID())

	require.NoError(t, eu.Do(context.Background(), Request{Method: http.MethodGet, Path: "/me"}, nil))
	_, err := eu.Scopes(context.Background())
	require.NoError(t, err)
	_, err = eu.ReconnectLink(context.Background(), []string{"Mail.Read"})
	require.Error(t, err) // the fake's answer has no link; the request is what counts
	reqs := f.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "outlook-eu", reqs[0].Header.Get("Provider-Config-Key"))
	assert.Equal(t, "alice", reqs[0].Header.Get("Connection-Id"))
	assert.Equal(t, "/connections/alice?provider_config_key=outlook-eu", reqs[1].RequestURI)
	assert.Contains(t, string(reqs[2].Body), `"integration_id":"outlook-eu"`)
}

// 10,000 users come and go: the client remembers at most MaxConnections of
// them, but never forgets one in use.
func TestIdleConnectionsAreForgotten(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", func(c *Config) { c.MaxConnections = 100 })
	held, release := c.Use("", "held")
	busy := c.Connection("busy")
	busy.slots <- struct{}{} // a Graph call in flight
	fetching := c.Connection("fetching")
	fetching.fetching <- struct{}{} // a scope fetch in flight

	for i := range 10_000 {
		c.Connection(fmt.Sprintf("user-%d", i))
		require.LessOrEqual(t, c.Connections(), 100)
	}
	assert.Same(t, held, c.Connection("held"), "held by a call")
	assert.Same(t, busy, c.Connection("busy"), "a Graph call in flight")
	assert.Same(t, fetching, c.Connection("fetching"), "a scope fetch in flight")
	assert.Same(t, c.Connection("user-9999"), c.Connection("user-9999"), "the most recent stay")

	release()
	release() // twice is harmless
	<-busy.slots
	<-fetching.fetching
	for i := range 200 {
		c.Connection(fmt.Sprintf("later-%d", i))
	}
	assert.NotSame(t, held, c.Connection("held"), "forgotten once released and idle")
	assert.NotSame(t, busy, c.Connection("busy"))
}

func TestConnectionsIdleTooLongAreForgotten(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", func(c *Config) { c.ConnectionIdle = time.Minute })
	now := time.Now()
	c.now = func() time.Time { return now }
	alice := c.Connection("alice")
	now = now.Add(59 * time.Second)
	c.Connection("bob")
	assert.Same(t, alice, c.Connection("alice"), "used within the minute")
	now = now.Add(61 * time.Second)
	c.Connection("carol") // a newcomer sweeps the stale ones
	assert.Equal(t, 1, c.Connections(), "alice and bob were idle for over a minute")
}

// TestConnectionCacheMemoryIsBounded measures the heap after 10,000
// distinct connections were seen, each with its scopes cached.
func TestConnectionCacheMemoryIsBounded(t *testing.T) {
	// Not newFakeNango: it keeps every request.
	srv := httptest.NewServer(reply(200, connectionJSON("User.Read Mail.ReadWrite Mail.Send Calendars.ReadWrite Contacts.ReadWrite")))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	seen := func(from, to int) uint64 {
		for i := from; i < to; i++ {
			conn, release := c.Use("", fmt.Sprintf("user-%d", i))
			_, err := conn.Scopes(context.Background())
			require.NoError(t, err)
			release()
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	atCap := seen(0, 1000)
	after := seen(1000, 10_000)
	assert.Equal(t, 1000, c.Connections())
	growth := int64(after) - int64(atCap)
	t.Logf("heap with 1,000 connections remembered: %d KiB; after 10,000 seen: %d KiB (growth %d KiB)", atCap>>10, after>>10, growth>>10)
	assert.Less(t, growth, int64(2<<20), "the heap does not grow with the connections seen beyond the bound")
}
