package nango

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTraceNotesStatusesRequestIDsAndRetries(t *testing.T) {
	t.Parallel()
	f := newFakeNango(t,
		reply(429, errBody("ApplicationThrottled", "throttled"), "Retry-After", "0", "request-id", "id-1"),
		reply(200, `{"id":"m1"}`, "request-id", "id-2"),
		reply(503, errBody("ServiceNotAvailable", "down"), "request-id", "id-3"))
	c := newClient(t, f.srv.URL)
	var tr Trace
	ctx := WithTrace(context.Background(), &tr)
	conn := c.Connection("conn-1")
	require.NoError(t, conn.Do(ctx, get("/me/messages"), nil))
	err := conn.Do(ctx, sendMail(), nil) // a 5xx send is not repeated
	assertKind(t, KindAmbiguous, requireNangoError(t, err))

	assert.Equal(t, map[int]int{429: 1, 200: 1, 503: 1}, tr.Statuses())
	assert.Equal(t, []string{"id-1", "id-2", "id-3"}, tr.RequestIDs())
	retries := tr.Retries()
	require.Len(t, retries, 1)
	assert.True(t, retries[0].Throttled)
	assert.Positive(t, retries[0].Wait, "the backoff, as Retry-After was 0")
	assert.Equal(t, 1, c.CachedConnections())
}

func TestTraceKeepsABoundedNumberOfRequestIDs(t *testing.T) {
	t.Parallel()
	f := newFakeNango(t, reply(200, `{}`, "request-id", "same"))
	c := newClient(t, f.srv.URL)
	var tr Trace
	ctx := WithTrace(context.Background(), &tr)
	for range maxTracedIDs + 5 {
		require.NoError(t, c.Connection("conn-1").Do(ctx, get("/me"), nil))
	}
	assert.Len(t, tr.RequestIDs(), maxTracedIDs)
	assert.Equal(t, maxTracedIDs+5, tr.Statuses()[200])
}

func TestCheckKeyAsksWithoutAConnection(t *testing.T) {
	t.Parallel()
	f := newFakeNango(t, reply(400, errBody("invalid_headers", "Missing required headers: Connection-Id, Provider-Config-Key")))
	c := newClient(t, f.srv.URL)
	require.NoError(t, c.CheckKey(context.Background()))
	r := f.only(t)
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/proxy/v1.0/me", r.RequestURI)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	assert.Empty(t, r.Header.Get("Connection-Id"), "no connection is read")
}

func TestCheckKeyReportsWhatIsWrong(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		answer http.HandlerFunc
		want   string // "" = accepted
	}{
		"unknown key":        {reply(401, errBody("unknown_account", "Authentication failed.")), "rejected the server's secret key (401 unknown_account)"},
		"no proxy right":     {reply(403, errBody("forbidden", "Insufficient scope. Required: environment:proxy")), "rejected the server's secret key (403 forbidden)"},
		"nango down":         {reply(503, "<html>bad gateway</html>", "Content-Type", "text/html"), "did not answer as expected"},
		"not nango":          {reply(404, "not found", "Content-Type", "text/plain"), "did not answer as expected"},
		"nango's rate limit": {reply(429, errBody("too_many_request", "Too many requests")), ""},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeNango(t, tc.answer)
			err := newClient(t, f.srv.URL).CheckKey(context.Background())
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
			assertNoSecret(t, err)
		})
	}
}
