package nango

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	throttled      = reply(429, errBody("ApplicationThrottled", "Application is over its MailboxConcurrency limit."))
	unavailable    = reply(503, errBody("ServiceNotAvailable", "Service unavailable."))
	okMessage      = reply(200, `{"id":"m1"}`)
	accepted       = reply(200, "", "Content-Type", "application/octet-stream")
	throttledAfter = func(v string) http.HandlerFunc {
		return reply(429, errBody("ApplicationThrottled", "Application is over its MailboxConcurrency limit."), "Retry-After", v)
	}
)

func get(path string) Request { return Request{Method: http.MethodGet, Path: path} }

func sendMail() Request {
	return Request{Method: http.MethodPost, Path: "/me/sendMail", Body: map[string]any{"message": map[string]any{"subject": "hi"}}}
}

func TestRetryAfterIsHonouredThenSuccess(t *testing.T) {
	t.Parallel()
	f := newFakeNango(t, throttledAfter("1"), okMessage)
	// Retry-After is longer than the backoff: it is what is waited.
	c := newClient(t, f.srv.URL, func(c *Config) { c.Backoff = 10 * time.Millisecond })
	var out struct{ ID string }
	start := time.Now()
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me/messages"), &out))
	assert.Equal(t, "m1", out.ID)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "waited Retry-After")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, 2, f.count())
}

func TestRetryAfterShorterThanTheBackoffWaitsTheBackoff(t *testing.T) {
	t.Parallel()
	// Graph sometimes answers Retry-After: 1 to every retry: the backoff
	// still grows, so a throttled mailbox is not hammered every second.
	f := newFakeNango(t, throttledAfter("0"), throttledAfter("0"), okMessage)
	c := newClient(t, f.srv.URL, func(c *Config) { c.Backoff = 200 * time.Millisecond })
	start := time.Now()
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me"), nil))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "100-200 ms, then 200-400 ms")
	assert.Equal(t, 3, f.count())
}

func TestRetryAfterZeroFallsBackToBackoff(t *testing.T) {
	f := newFakeNango(t, throttledAfter("0"), okMessage)
	c := newClient(t, f.srv.URL)
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me"), nil))
	assert.Equal(t, 2, f.count())
}

func TestThrottleWithoutRetryAfterBacksOffExponentially(t *testing.T) {
	f := newFakeNango(t, throttled, throttled, okMessage)
	c := newClient(t, f.srv.URL, func(c *Config) { c.Backoff = 40 * time.Millisecond })
	start := time.Now()
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me/messages"), nil))
	elapsed := time.Since(start)
	// Waits are in [Backoff/2, Backoff] then [Backoff, 2*Backoff].
	assert.GreaterOrEqual(t, elapsed, 60*time.Millisecond)
	assert.Less(t, elapsed, 2*time.Second)
	assert.Equal(t, 3, f.count())
}

func TestNangoRateLimitIsRetried(t *testing.T) {
	f := newFakeNango(t, reply(429, errBody("too_many_request", "Too many requests"), "Retry-After", "0"), okMessage)
	c := newClient(t, f.srv.URL)
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me"), nil))
	assert.Equal(t, 2, f.count())
}

func TestRetriesAreCappedByMaxRetries(t *testing.T) {
	tests := []struct {
		name         string
		maxRetries   int
		wantRequests int
	}{
		{"default", 0, 4},
		{"one", 1, 2},
		{"five", 5, 6},
		{"negative disables", -1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, throttled)
			c := newClient(t, f.srv.URL, withMaxRetries(tc.maxRetries))
			err := c.Connection("conn-1").Do(context.Background(), get("/me/messages"), nil)
			e := requireNangoError(t, err)
			assertKind(t, KindRateLimited, e)
			assert.Equal(t, http.StatusTooManyRequests, e.Status)
			assert.Equal(t, tc.wantRequests, f.count())
		})
	}
}

func TestWaitsThatCannotFitReturnTheThrottleAtOnce(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		opts     func(*Config)
		deadline time.Duration // 0: none
	}{
		{"Retry-After beyond the deadline", throttledAfter("30"), func(*Config) {}, 2 * time.Second},
		{"backoff beyond the deadline", throttled, func(c *Config) { c.Backoff = 20 * time.Second }, time.Second},
		{"Retry-After beyond MaxWait", throttledAfter("5"), func(c *Config) { c.MaxWait = 100 * time.Millisecond }, 0},
		{"HTTP-date Retry-After beyond MaxWait", throttledAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)), func(*Config) {}, 0},
		{"backoff beyond MaxWait", throttled, func(c *Config) { c.Backoff = 10 * time.Second; c.MaxWait = time.Second }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, tc.handler, okMessage)
			c := newClient(t, f.srv.URL, tc.opts)
			var ctx context.Context
			var cancel context.CancelFunc
			if tc.deadline > 0 {
				ctx, cancel = context.WithTimeout(context.Background(), tc.deadline)
			} else {
				// No deadline (so only MaxWait can stop the wait), but a
				// broken MaxWait must fail the test rather than hang it.
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(2*time.Second, cancel)
			}
			defer cancel()
			start := time.Now()
			err := c.Connection("conn-1").Do(ctx, get("/me/messages"), nil)
			assert.Less(t, time.Since(start), 500*time.Millisecond, "gave up at once")
			e := requireNangoError(t, err)
			assertKind(t, KindRateLimited, e, "the throttle itself is reported, not a context error")
			assert.False(t, errors.Is(err, context.DeadlineExceeded))
			assert.Equal(t, 1, f.count())
		})
	}
}

func TestThrottleReportsRetryAfterToCaller(t *testing.T) {
	f := newFakeNango(t, throttledAfter("120"))
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(2*time.Second, cancel) // fail, not hang, if MaxWait (30s) is ignored
	err := c.Connection("conn-1").Do(ctx, get("/me"), nil)
	e := requireNangoError(t, err)
	assert.Equal(t, 120*time.Second, e.RetryAfter)
}

func TestServerErrorOnGetIsRetried(t *testing.T) {
	for _, h := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"503", unavailable},
		{"504 no body", reply(504, "")},
		{"500 ECONNRESET from Nango", reply(500, `{"message":"read ECONNRESET","code":"ECONNRESET"}`)},
	} {
		t.Run(h.name, func(t *testing.T) {
			f := newFakeNango(t, h.handler, h.handler, okMessage)
			c := newClient(t, f.srv.URL)
			var out struct{ ID string }
			require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me/messages/m1"), &out))
			assert.Equal(t, "m1", out.ID)
			assert.Equal(t, 3, f.count())
		})
	}
}

func TestNetworkFailureOnGetIsRetried(t *testing.T) {
	f := newFakeNango(t, hangUp, okMessage)
	c := newClient(t, f.srv.URL)
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me"), nil))
	assert.GreaterOrEqual(t, f.count(), 2)
}

func TestNonIdempotentCallIsNeverRepeated(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantSource Source
		wantStatus int
	}{
		{"503", unavailable, FromGraph, 503},
		{"502 no body", reply(502, ""), FromGraph, 502},
		{"504 html", reply(504, "<html>Gateway Timeout</html>", "Content-Type", "text/html"), FromGraph, 504},
		{"500 ECONNRESET from Nango", reply(500, `{"message":"read ECONNRESET","code":"ECONNRESET"}`), FromNango, 500},
		{"connection dropped", hangUp, FromNetwork, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, tc.handler, accepted)
			c := newClient(t, f.srv.URL)
			err := c.Connection("conn-1").Do(context.Background(), sendMail(), nil)
			e := requireNangoError(t, err)
			assertKind(t, KindAmbiguous, e, "the send may have happened")
			assert.Equal(t, tc.wantSource, e.Source)
			assert.Equal(t, tc.wantStatus, e.Status)
			assert.Equal(t, 1, f.count(), "a send is never made twice")
		})
	}
}

func TestThrottledPostIsRetried(t *testing.T) {
	f := newFakeNango(t, throttledAfter("0"), throttled, accepted)
	c := newClient(t, f.srv.URL)
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), sendMail(), nil))
	reqs := f.requests()
	require.Len(t, reqs, 3, "Graph throttles before executing: retrying a 429 send is safe")
	for _, r := range reqs[1:] {
		assert.Equal(t, string(reqs[0].Body), string(r.Body), "the same body is sent again")
		assert.Equal(t, http.MethodPost, r.Method)
	}
	assert.NotEmpty(t, reqs[0].Body)
}

func TestIdempotentPostRetriesServerErrors(t *testing.T) {
	f := newFakeNango(t, unavailable, hangUp, okMessage)
	c := newClient(t, f.srv.URL)
	r := Request{Method: http.MethodPost, Path: "/me/calendar/getSchedule", Body: map[string]any{"schedules": []string{"a@b.com"}}, Idempotent: true}
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), r, nil))
	assert.Equal(t, 3, f.count())
}

func TestNonTransientErrorsAreNotRetried(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"403", reply(403, errBody("ErrorAccessDenied", "Access is denied. Check credentials and try again."))},
		{"404", reply(404, errBody("ErrorItemNotFound", "The specified object was not found in the store."))},
		{"400", reply(400, errBody("ErrorInvalidIdMalformed", "Id is malformed."))},
		{"401", reply(401, errBody("InvalidAuthenticationToken", "Access token has expired or is not yet valid."))},
		{"nango unknown connection", reply(400, errBody("server_error", "Failed to get connection"))},
		{"nango bad key", reply(401, errBody("unknown_account", "No account found for this secret key"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, tc.handler, okMessage)
			c := newClient(t, f.srv.URL)
			require.Error(t, c.Connection("conn-1").Do(context.Background(), get("/me"), nil))
			assert.Equal(t, 1, f.count())
		})
	}
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	f := newFakeNango(t, throttledAfter("5"), okMessage)
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := c.Connection("conn-1").Do(ctx, get("/me"), nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, 1, f.count())
}

func TestCancelledContextMakesNoCall(t *testing.T) {
	f := newFakeNango(t, okMessage)
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Connection("conn-1").Do(ctx, get("/me"), nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDeadlineDuringASendIsAmbiguous(t *testing.T) {
	release := make(chan struct{})
	f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		okMessage(w, r)
	})
	t.Cleanup(func() { close(release) })
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Connection("conn-1").Do(ctx, sendMail(), nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assertKind(t, KindAmbiguous, requireNangoError(t, err), "a send that met its deadline on the way may have happened")
	assertNoSecret(t, err)
	assert.Equal(t, 1, f.count())
}

func TestCancelDuringASendLetsItRunToItsAnswer(t *testing.T) {
	arrived := make(chan struct{})
	f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		time.Sleep(200 * time.Millisecond) // Graph is slow; meanwhile the client cancels
		if r.Context().Err() != nil {
			return // the request was abandoned: the test fails below
		}
		accepted(w, r)
	})
	c := newClient(t, f.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	err := c.Connection("conn-1").Do(ctx, sendMail(), nil)
	require.NoError(t, err, "the send was on its way: it runs to its answer")
	assert.Equal(t, 1, f.count())
}

func TestCancelBeforeASendLeavesStopsIt(t *testing.T) {
	release := make(chan struct{})
	f := newFakeNango(t, func(w http.ResponseWriter, r *http.Request) { <-release; okMessage(w, r) }, accepted)
	c := newClient(t, f.srv.URL, func(cfg *Config) { cfg.MaxInFlight = 1 })
	conn := c.Connection("conn-1")
	done := make(chan error)
	go func() { done <- conn.Do(context.Background(), get("/me"), nil) }() // holds the only slot
	require.Eventually(t, func() bool { return f.count() == 1 }, time.Second, 5*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := conn.Do(ctx, sendMail(), nil)
	assert.ErrorIs(t, err, context.Canceled)
	_, ambiguous := AsError(err)
	assert.False(t, ambiguous, "a send that never left is not ambiguous")
	close(release)
	require.NoError(t, <-done)
	assert.Equal(t, 1, f.count(), "the cancelled send was never made")
}

func TestPathsWithDotSegmentsAreRefused(t *testing.T) {
	f := newFakeNango(t, okMessage)
	c := newClient(t, f.srv.URL)
	for _, p := range []string{"/me/events/..", "/me/events/.", "/me/events/%2e%2e", "/me/events/%2E%2e/x", "/me/events/%252e%252e",
		"/me/messages/a%2F..%2F..%2Fusers%2Fx", "/me/messages/a%5C..%5Cb", "/../beta/me", "https://graph.microsoft.com/v1.0/me/../../beta/me"} {
		err := c.Connection("conn-1").Do(context.Background(), get(p), nil)
		assertKind(t, KindBadRequest, requireNangoError(t, err), p)
	}
	assert.Zero(t, f.count(), "none reached Nango")
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), get("/me/messages/AAMk%2Fx+y=="), nil))
}

func TestSendThatNeverLeftIsRetried(t *testing.T) {
	// Nothing listens on the first address: the connection is refused before
	// any request is made, so even a send may be tried again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	f := newFakeNango(t, accepted)
	var dials atomic.Int32
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			addr = refused
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	c, err := New(Config{Host: f.srv.URL, SecretKey: testKey, IntegrationID: "outlook", Backoff: time.Millisecond, HTTPClient: &http.Client{Transport: transport}})
	require.NoError(t, err)
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), sendMail(), nil))
	assert.Equal(t, 1, f.count(), "sent exactly once, after the refused connection")
}
