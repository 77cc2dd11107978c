package nango

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScopesRequestShape(t *testing.T) {
	tests := []struct {
		name, connID, wantURI string
	}{
		{"plain", "conn-1", "/connections/conn-1?provider_config_key=outlook"},
		{"email", "alice@contoso.com", "/connections/alice@contoso.com?provider_config_key=outlook"},
		{"needs escaping", "a/b c?d#e%f", "/connections/a%2Fb%20c%3Fd%23e%25f?provider_config_key=outlook"},
		{"interpolation", "${x}", "/connections/$%7Bx%7D?provider_config_key=outlook"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")))
			c := newClient(t, f.srv.URL)
			_, err := c.Connection(tc.connID).Scopes(context.Background())
			require.NoError(t, err)
			r := f.only(t)
			assert.Equal(t, http.MethodGet, r.Method)
			assert.Equal(t, tc.wantURI, r.RequestURI)
			assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
			assert.Empty(t, r.Body)
			assert.Empty(t, r.Header.Get("Connection-Id"), "not a proxy call")
		})
	}
}

func TestScopesIntegrationIDIsQueryEscaped(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")))
	c := newClient(t, f.srv.URL, func(c *Config) { c.IntegrationID = "outlook prod&x=1" })
	_, err := c.Connection("conn-1").Scopes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "/connections/conn-1?provider_config_key=outlook+prod%26x%3D1", f.only(t).RequestURI)
}

func TestScopesAreParsed(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/User.Read openid profile email")))
	c := newClient(t, f.srv.URL)
	s, err := c.Connection("conn-1").Scopes(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Known())
	assert.Equal(t, []string{"Mail.Read", "User.Read"}, s.Names())
	assert.True(t, s.HasAny("mail.read"))
	assert.False(t, s.HasAny("Mail.Send"))
}

func TestScopesAreCachedForTTL(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")), reply(200, connectionJSON("Mail.Read Mail.Send")))
	c := newClient(t, f.srv.URL, func(c *Config) { c.ScopeTTL = 100 * time.Millisecond })
	conn := c.Connection("conn-1")

	s, err := conn.Scopes(context.Background())
	require.NoError(t, err)
	assert.False(t, s.Has("Mail.Send"))
	s, err = conn.Scopes(context.Background())
	require.NoError(t, err)
	assert.False(t, s.Has("Mail.Send"))
	assert.Equal(t, 1, f.count(), "the second call is served from the cache")

	// Another handle to the same connection shares the cache.
	_, err = c.Connection("conn-1").Scopes(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, f.count())

	time.Sleep(150 * time.Millisecond)
	s, err = conn.Scopes(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Send"), "refetched after the TTL")
	assert.Equal(t, 2, f.count())
}

func TestScopesCacheIsPerConnection(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")))
	c := newClient(t, f.srv.URL)
	_, err := c.Connection("alice").Scopes(context.Background())
	require.NoError(t, err)
	_, err = c.Connection("bob").Scopes(context.Background())
	require.NoError(t, err)
	reqs := f.requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, reqs[0].RequestURI, "/connections/alice?")
	assert.Contains(t, reqs[1].RequestURI, "/connections/bob?")
}

func TestConcurrentScopesShareOneFetch(t *testing.T) {
	f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		reply(200, connectionJSON("Mail.Read"))(w, r)
	})
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			s, err := conn.Scopes(context.Background())
			assert.NoError(t, err)
			assert.True(t, s.Has("Mail.Read"))
		})
	}
	wg.Wait()
	assert.Equal(t, 1, f.count())
}

func TestRefreshScopes(t *testing.T) {
	f := newFakeNango(t,
		reply(200, connectionJSON("Mail.Read")),
		reply(200, connectionJSON("Mail.Read Mail.Send")),
		reply(200, connectionJSON("Mail.Read Mail.Send Calendars.ReadWrite")))
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")
	ctx := context.Background()

	s, err := conn.Scopes(ctx)
	require.NoError(t, err)
	require.False(t, s.Has("Mail.Send"))

	// After a 403 the user may have re-consented: refetch despite the cache.
	s, err = conn.RefreshScopes(ctx)
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Send"))
	assert.Equal(t, 2, f.count())

	// A burst of 403s shares that refetch.
	s, err = conn.RefreshScopes(ctx)
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Send"))
	assert.False(t, s.Has("Calendars.ReadWrite"))
	assert.Equal(t, 2, f.count(), "no second refetch within 5s")

	// The refetch also refreshed the cache Scopes serves.
	s, err = conn.Scopes(ctx)
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Send"))
	assert.Equal(t, 2, f.count())
}

func TestRefreshScopesWithoutPriorFetch(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")))
	c := newClient(t, f.srv.URL)
	s, err := c.Connection("conn-1").RefreshScopes(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Read"))
	assert.Equal(t, 1, f.count())
}

func TestFailedRefreshDoesNotSuppressTheNextOne(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")), reply(503, ""), reply(200, connectionJSON("Mail.Send")))
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")
	_, err := conn.Scopes(context.Background())
	require.NoError(t, err)

	_, err = conn.RefreshScopes(context.Background())
	e := requireNangoError(t, err)
	assertKind(t, KindUnavailable, e)

	s, err := conn.RefreshScopes(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Send"), "the failed refresh did not start the 5s window")
	assert.Equal(t, 3, f.count())
}

func TestScopesUnknownWhenCredentialsHidden(t *testing.T) {
	for name, body := range map[string]string{
		"empty credentials": `{"connection_id":"conn-1","provider_config_key":"outlook","provider":"microsoft","errors":[],"credentials":{}}`,
		"no raw scope":      `{"connection_id":"conn-1","errors":[],"credentials":{"type":"OAUTH2","raw":{"token_type":"Bearer"}}}`,
		"blank raw scope":   `{"connection_id":"conn-1","credentials":{"type":"OAUTH2","raw":{"scope":"   "}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeNango(t, reply(200, body))
			c := newClient(t, f.srv.URL)
			conn := c.Connection("conn-1")
			s, err := conn.Scopes(context.Background())
			require.NoError(t, err)
			assert.False(t, s.Known())
			assert.Equal(t, "unknown", s.String())
			assert.True(t, s.HasAny("Mail.Send"))

			_, err = conn.Scopes(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, f.count(), "an unknown answer is cached too")
		})
	}
}

func TestScopesConnectionErrorsMeanReauthorize(t *testing.T) {
	bad := `{"connection_id":"conn-1","errors":[{"type":"auth","log_id":"abc"}],"credentials":{"type":"OAUTH2","raw":{"scope":"Mail.Read"}}}`
	f := newFakeNango(t, reply(200, bad), reply(200, connectionJSON("Mail.Read")))
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")

	_, err := conn.Scopes(context.Background())
	e := requireNangoError(t, err)
	assertKind(t, KindReauthorize, e)
	assert.Equal(t, FromNango, e.Source)

	// Once the user has re-authorized, the next call sees the new grant.
	s, err := conn.Scopes(context.Background())
	require.NoError(t, err)
	assert.True(t, s.Has("Mail.Read"))
}

func TestScopesErrors(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantKind   Kind
		wantSource Source
	}{
		{"unknown connection", reply(404, errBody("not_found", "Failed to find connection")), KindUnknownConnection, FromNango},
		{"unknown connection (old code)", reply(404, errBody("unknown_connection", "No connection")), KindUnknownConnection, FromNango},
		{"unknown integration (400)", reply(400, errBody("unknown_provider_config", "Provider does not exists")), KindUnknownIntegration, FromNango},
		{"bad key", reply(401, errBody("unknown_account", "x")), KindBadSecretKey, FromNango},
		{"key lacks permission", reply(403, errBody("forbidden", "Insufficient scope")), KindBadSecretKey, FromNango},
		{"refresh failed", reply(400, errBody("server_error", "Failed to get connection credentials: 'The external API returned an error when trying to refresh the access token'")), KindReauthorize, FromNango},
		{"not JSON", reply(200, "<html>"), KindOther, FromNango},
		{"network", hangUp, KindUnavailable, FromNetwork},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, tc.handler)
			c := newClient(t, f.srv.URL)
			s, err := c.Connection("conn-1").Scopes(context.Background())
			e := requireNangoError(t, err)
			assertKind(t, tc.wantKind, e)
			assert.Equal(t, tc.wantSource, e.Source)
			assert.False(t, s.Known())
		})
	}
}

// Some Nango versions answer an unknown integration on GET /connections/{id}
// with 404 unknown_provider_config (facts: the proxy does too). That must
// stay "unknown integration", not become "unknown connection".
func TestScopesUnknownIntegration404(t *testing.T) {
	f := newFakeNango(t, reply(404, errBody("unknown_provider_config", "Provider config not found")))
	c := newClient(t, f.srv.URL)
	_, err := c.Connection("conn-1").Scopes(context.Background())
	e := requireNangoError(t, err)
	assertKind(t, KindUnknownIntegration, e)
}

func TestScopesRespectsContext(t *testing.T) {
	f := newFakeNango(t, reply(200, connectionJSON("Mail.Read")))
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Connection("conn-1").Scopes(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// --- ReconnectLink ---

func connectAnswer(link string, expires time.Time) string {
	data := map[string]any{"token": "nango_connect_session_x", "connect_link": link}
	if !expires.IsZero() {
		data["expires_at"] = expires.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(map[string]any{"data": data})
	return string(b)
}

const link1 = "https://connect.nango.dev/?session_token=one"

func TestReconnectLinkRequest(t *testing.T) {
	f := newFakeNango(t, reply(201, connectAnswer(link1, time.Now().Add(30*time.Minute))))
	c := newClient(t, f.srv.URL)
	link, err := c.Connection("conn-1").ReconnectLink(context.Background(),
		[]string{"Mail.Read", "Mail.Send", "mail.read", "OFFLINE_ACCESS", "offline_access", "Mail.Send"})
	require.NoError(t, err)
	assert.Equal(t, link1, link)

	r := f.only(t)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/connect/sessions/reconnect", r.RequestURI)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.JSONEq(t, `{
		"connection_id": "conn-1",
		"integration_id": "outlook",
		"integrations_config_defaults": {
			"outlook": {
				"connection_config": {"oauth_scopes_override": "offline_access,Mail.Read,Mail.Send"},
				"authorization_params": {"prompt": "consent"}
			}
		}
	}`, string(r.Body))
}

func TestReconnectLinkScopeOverride(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		want   string
	}{
		{"none", nil, "offline_access"},
		{"one", []string{"Calendars.ReadWrite"}, "offline_access,Calendars.ReadWrite"},
		{"offline_access moved first", []string{"User.Read", "offline_access", "Mail.Read"}, "offline_access,User.Read,Mail.Read"},
		{"case-insensitive duplicates", []string{"Mail.Send", "MAIL.SEND", "mail.send"}, "offline_access,Mail.Send"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, reply(201, connectAnswer(link1, time.Time{})))
			c := newClient(t, f.srv.URL)
			_, err := c.Connection("conn-1").ReconnectLink(context.Background(), tc.scopes)
			require.NoError(t, err)
			var body struct {
				Defaults map[string]struct {
					ConnectionConfig struct {
						Override string `json:"oauth_scopes_override"`
					} `json:"connection_config"`
				} `json:"integrations_config_defaults"`
			}
			require.NoError(t, json.Unmarshal(f.only(t).Body, &body))
			assert.Equal(t, tc.want, body.Defaults[testIntegration].ConnectionConfig.Override)
		})
	}
}

func TestReconnectLinkIsReused(t *testing.T) {
	f := newFakeNango(t,
		reply(201, connectAnswer(link1, time.Now().Add(30*time.Minute))),
		reply(201, connectAnswer("https://connect.nango.dev/?session_token=two", time.Now().Add(30*time.Minute))))
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")

	a, err := conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
	require.NoError(t, err)
	b, err := conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, 1, f.count(), "the second call reuses the link")

	// Different scopes need a different session.
	d, err := conn.ReconnectLink(context.Background(), []string{"Calendars.ReadWrite"})
	require.NoError(t, err)
	assert.NotEqual(t, a, d)
	assert.Equal(t, 2, f.count())
}

func TestReconnectLinkWithoutExpiryIsReused(t *testing.T) {
	f := newFakeNango(t, reply(201, connectAnswer(link1, time.Time{})))
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")
	for range 3 {
		link, err := conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
		require.NoError(t, err)
		assert.Equal(t, link1, link)
	}
	assert.Equal(t, 1, f.count())
}

func TestReconnectLinkAboutToExpireIsRenewed(t *testing.T) {
	f := newFakeNango(t,
		reply(201, connectAnswer(link1, time.Now().Add(2*time.Minute))),
		reply(201, connectAnswer("https://connect.nango.dev/?session_token=two", time.Now().Add(30*time.Minute))))
	c := newClient(t, f.srv.URL)
	conn := c.Connection("conn-1")
	_, err := conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
	require.NoError(t, err)
	link, err := conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
	require.NoError(t, err)
	assert.Equal(t, "https://connect.nango.dev/?session_token=two", link, "a link the user could not finish in time is not handed out")
	assert.Equal(t, 2, f.count())
}

func TestReconnectLinkErrors(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantKind Kind
	}{
		{"key lacks connect_sessions:write", reply(403, errBody("forbidden", "Insufficient scope. Required: environment:connect_sessions:write")), KindBadSecretKey},
		{"unknown connection", reply(404, errBody("not_found", "Failed to find connection")), KindUnknownConnection},
		{"unknown integration", reply(400, errBody("unknown_provider_config", "x")), KindUnknownIntegration},
		{"no link in answer", reply(201, `{"data":{"token":"t"}}`), KindOther},
		{"not JSON", reply(201, `<html>`), KindOther},
		{"network", hangUp, KindUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, tc.handler, reply(201, connectAnswer(link1, time.Time{})))
			c := newClient(t, f.srv.URL)
			conn := c.Connection("conn-1")
			link, err := conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
			e := requireNangoError(t, err)
			assert.Empty(t, link)
			assertKind(t, tc.wantKind, e)

			// A failure is not cached: the next call tries again.
			link, err = conn.ReconnectLink(context.Background(), []string{"Mail.Send"})
			require.NoError(t, err)
			assert.Equal(t, link1, link)
		})
	}
}

func TestReconnectLinkGivesUpOnASlowNango(t *testing.T) {
	release := make(chan struct{})
	f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Connection("conn-1").ReconnectLink(ctx, []string{"Mail.Send"})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// While one caller's scope fetch hangs on Nango, other calls on the same
// connection must still honour their own context (a tool call has a
// deadline; Nango may take up to the HTTP client's timeout to answer).
func TestSlowScopeFetchDoesNotHoldOtherCallersPastTheirDeadline(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, conn *Connection) error
	}{
		{"Scopes", func(ctx context.Context, conn *Connection) error { _, err := conn.Scopes(ctx); return err }},
		{"RefreshScopes", func(ctx context.Context, conn *Connection) error { _, err := conn.RefreshScopes(ctx); return err }},
		{"ReconnectLink", func(ctx context.Context, conn *Connection) error {
			_, err := conn.ReconnectLink(ctx, []string{"Mail.Send"})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			unblock := func() { once.Do(func() { close(release) }) }
			f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					<-release // the first caller's fetch hangs
					reply(200, connectionJSON("Mail.Read"))(w, r)
					return
				}
				reply(201, connectAnswer(link1, time.Time{}))(w, r)
			})
			t.Cleanup(unblock)
			c := newClient(t, f.srv.URL)
			conn := c.Connection("conn-1")

			first := make(chan error, 1)
			go func() { _, err := conn.Scopes(context.Background()); first <- err }()
			require.Eventually(t, func() bool { return f.count() == 1 }, 5*time.Second, time.Millisecond)

			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			second := make(chan error, 1)
			go func() { second <- tc.call(ctx, conn) }()
			select {
			case <-second:
				// Returned on its own deadline (an error) or without waiting.
			case <-time.After(300 * time.Millisecond):
				t.Errorf("%s waited for another caller's fetch far past its own 50ms deadline", tc.name)
			}
			unblock()
			require.NoError(t, <-first)
		})
	}
}
