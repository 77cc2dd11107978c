package nango

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantMsg string // part of the error message
	}{
		{"empty key", Config{IntegrationID: testIntegration}, "secret key is empty"},
		{"not a uuid", Config{SecretKey: "sk_live_0123456789abcdef", IntegrationID: testIntegration}, "not a UUID v4"},
		{"uuid v1", Config{SecretKey: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", IntegrationID: testIntegration}, "not a UUID v4"},
		{"uuid v4 with a bad variant", Config{SecretKey: "3f2c8a41-7b9e-4d6a-7c1e-5a7b3d2f8e90", IntegrationID: testIntegration}, "not a UUID v4"},
		{"key with a trailing newline", Config{SecretKey: testKey + "\n", IntegrationID: testIntegration}, "not a UUID v4"},
		{"key with surrounding spaces", Config{SecretKey: " " + testKey + " ", IntegrationID: testIntegration}, "not a UUID v4"},
		{"key with a missing character", Config{SecretKey: testKey[:len(testKey)-1], IntegrationID: testIntegration}, "not a UUID v4"},
		{"key in quotes", Config{SecretKey: `"` + testKey + `"`, IntegrationID: testIntegration}, "not a UUID v4"},
		{"empty integration", Config{SecretKey: testKey}, "integration id is empty"},
		{"host without scheme", Config{SecretKey: testKey, IntegrationID: testIntegration, Host: "api.nango.dev"}, "not an http(s) URL"},
		{"ftp host", Config{SecretKey: testKey, IntegrationID: testIntegration, Host: "ftp://api.nango.dev"}, "not an http(s) URL"},
		{"scheme only", Config{SecretKey: testKey, IntegrationID: testIntegration, Host: "https://"}, "not an http(s) URL"},
		{"unparsable host", Config{SecretKey: testKey, IntegrationID: testIntegration, Host: "http://[::1"}, "not an http(s) URL"},
		{"host with a space", Config{SecretKey: testKey, IntegrationID: testIntegration, Host: "https://api nango.dev"}, "not an http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.wantMsg)
			if tc.cfg.SecretKey != "" {
				assert.NotContains(t, err.Error(), tc.cfg.SecretKey, "the error must not echo the key")
			}
			assertNoSecret(t, err)
		})
	}
}

func TestNewAcceptsValidKeys(t *testing.T) {
	for _, key := range []string{testKey, "3F2C8A41-7B9E-4D6A-BC1E-5A7B3D2F8E90", "00000000-0000-4000-8000-000000000000"} {
		c, err := New(Config{SecretKey: key, IntegrationID: testIntegration})
		require.NoError(t, err, key)
		assert.Equal(t, testIntegration, c.IntegrationID())
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{SecretKey: testKey, IntegrationID: testIntegration})
	require.NoError(t, err)
	assert.Equal(t, DefaultHost, c.host)
	assert.NotNil(t, c.cfg.HTTPClient)
	assert.NotZero(t, c.cfg.HTTPClient.Timeout, "the default HTTP client must not wait forever")
	assert.NotNil(t, c.cfg.Logger)
	assert.Equal(t, 4, c.cfg.MaxInFlight)
	assert.Equal(t, 3, c.cfg.MaxRetries)
	assert.Equal(t, 500*time.Millisecond, c.cfg.Backoff)
	assert.Equal(t, 30*time.Second, c.cfg.MaxWait)
	assert.Equal(t, 5*time.Minute, c.cfg.ScopeTTL)
}

func TestNewKeepsExplicitSettings(t *testing.T) {
	hc := &http.Client{}
	c, err := New(Config{
		Host: "http://localhost:3003/", SecretKey: testKey, IntegrationID: "my-outlook",
		HTTPClient: hc, MaxInFlight: 2, MaxRetries: 7, Backoff: time.Second, MaxWait: time.Minute, ScopeTTL: time.Hour,
	})
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:3003", c.host, "trailing slash trimmed")
	assert.Same(t, hc, c.cfg.HTTPClient)
	assert.Equal(t, 2, c.cfg.MaxInFlight)
	assert.Equal(t, 7, c.cfg.MaxRetries)
	assert.Equal(t, time.Second, c.cfg.Backoff)
	assert.Equal(t, time.Minute, c.cfg.MaxWait)
	assert.Equal(t, time.Hour, c.cfg.ScopeTTL)
	assert.Equal(t, "my-outlook", c.IntegrationID())
}

func TestNewNegativeMaxRetriesMeansNoRetry(t *testing.T) {
	c, err := New(Config{SecretKey: testKey, IntegrationID: testIntegration, MaxRetries: -1})
	require.NoError(t, err)
	assert.Equal(t, 0, c.cfg.MaxRetries)
}

func TestHostVariantsReachTheRightPath(t *testing.T) {
	f := newFakeNango(t, reply(200, `{}`))
	tests := []struct {
		name, host, wantURI string
	}{
		{"plain", f.srv.URL, "/proxy/v1.0/me"},
		{"trailing slash", f.srv.URL + "/", "/proxy/v1.0/me"},
		{"several trailing slashes", f.srv.URL + "///", "/proxy/v1.0/me"},
		{"self-hosted under a path", f.srv.URL + "/nango", "/nango/proxy/v1.0/me"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.host)
			require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: "/me"}, nil))
			reqs := f.requests()
			require.Len(t, reqs, i+1)
			assert.Equal(t, tc.wantURI, reqs[i].RequestURI)
		})
	}
}

func TestConnectionHandlesAreSharedPerID(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	a := c.Connection("conn-a")
	assert.Same(t, a, c.Connection("conn-a"))
	assert.NotSame(t, a, c.Connection("conn-b"))
	assert.Equal(t, "conn-a", a.ID())
	assert.Equal(t, testIntegration, a.IntegrationID())
}

// Many users' calls at once reuse the connections to Nango: the default
// client keeps more than net/http's 2 idle connections per host.
func TestDefaultClientReusesConnectionsToNango(t *testing.T) {
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // so the calls overlap
		w.Write([]byte(`{}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := New(Config{Host: srv.URL, SecretKey: testKey, IntegrationID: testIntegration})
	require.NoError(t, err)
	const users = 16
	for range 3 {
		var wg sync.WaitGroup
		for u := range users {
			wg.Go(func() {
				assert.NoError(t, c.Connection(fmt.Sprintf("user-%d", u)).Do(t.Context(), Request{Path: "/me"}, nil))
			})
		}
		wg.Wait()
	}
	// 16 at most for the first round; later rounds reuse them (before:
	// about 14 more per round).
	assert.LessOrEqual(t, opened.Load(), int32(users+2), "connections opened for 3 rounds of %d calls at once", users)
}
