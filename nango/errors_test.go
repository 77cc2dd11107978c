package nango

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type classifyCase struct {
	name       string
	status     int
	body       string
	headers    []string // key/value pairs
	wantSource Source
	wantKind   Kind
	wantCode   string
}

// doOnce makes one GET through the proxy (no retries) against a server
// answering status/body/headers, and returns the classified error.
func doOnce(t *testing.T, status int, body string, headers ...string) *Error {
	t.Helper()
	f := newFakeNango(t, reply(status, body, headers...))
	c := newClient(t, f.srv.URL, noRetries)
	err := c.Connection("conn-1").Do(context.Background(), get("/me/messages"), nil)
	e := requireNangoError(t, err)
	assert.Equal(t, status, e.Status)
	return e
}

func runClassify(t *testing.T, tests []classifyCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := doOnce(t, tc.status, tc.body, tc.headers...)
			assert.Equal(t, tc.wantSource, e.Source, "source")
			assertKind(t, tc.wantKind, e, "kind")
			assert.Equal(t, tc.wantCode, e.Code, "code")
		})
	}
}

// Nango's own errors, as Nango's API reference documents them.
func TestClassifyNangoErrors(t *testing.T) {
	runClassify(t, []classifyCase{
		{"no Authorization header", 401, errBody("missing_auth_header", "Authentication failed. The request is missing the Authorization header."), nil,
			FromNango, KindBadSecretKey, "missing_auth_header"},
		{"key not a UUID v4", 401, errBody("invalid_secret_key_format", "Authentication failed. The provided secret key is not a UUID v4."), nil,
			FromNango, KindBadSecretKey, "invalid_secret_key_format"},
		{"unknown key", 401, errBody("unknown_account", "Authentication failed. The provided secret key is invalid."), nil,
			FromNango, KindBadSecretKey, "unknown_account"},
		{"key lacks the permission", 403, errBody("forbidden", "Insufficient scope. Required: environment:proxy"), nil,
			FromNango, KindBadSecretKey, "forbidden"},
		{"missing headers", 400, errBody("invalid_headers", "Missing Connection-Id"), nil,
			FromNango, KindOther, "invalid_headers"},
		{"unknown integration", 404, errBody("unknown_provider_config", "Provider config not found"), nil,
			FromNango, KindUnknownIntegration, "unknown_provider_config"},
		{"unknown connection (proxy)", 400, errBody("server_error", "Failed to get connection"), nil,
			FromNango, KindUnknownConnection, "server_error"},
		{"token refresh rejected", 400, errBody("server_error", "Failed to get connection credentials: 'The external API returned an error when trying to refresh the access token. Please try again later.'"), nil,
			FromNango, KindReauthorize, "server_error"},
		{"grant revoked (no word 'refresh')", 400, errBody("server_error", "Failed to get connection credentials: 'invalid_grant: AADSTS50173: The provided grant has expired due to it being revoked.'"), nil,
			FromNango, KindReauthorize, "server_error"},
		{"refresh exhausted", 424, errBody("server_error", "The refresh limit has been reached for this connection."), nil,
			FromNango, KindReauthorize, "server_error"},
		{"refresh refused by Microsoft", 400, errBody("invalid_credentials", "The external API returned an error when trying to refresh the access token. Please try again later."), nil,
			FromNango, KindReauthorize, "invalid_credentials"},
		{"refresh cooling down", 424, errBody("connection_refresh_backoff", "Refresh is in backoff, please retry later"), nil,
			FromNango, KindReauthorize, "connection_refresh_backoff"},
		{"Nango rate limit", 429, errBody("too_many_request", "Too many requests"), []string{"Retry-After", "12"},
			FromNango, KindRateLimited, "too_many_request"},
		{"upstream unreachable (top-level shape)", 500, `{"message":"read ECONNRESET","name":"Error","code":"ECONNRESET","status":null}`, nil,
			FromNango, KindUnavailable, "ECONNRESET"},
		{"upstream timeout (top-level shape)", 500, `{"message":"timeout of 60000ms exceeded","code":"ETIMEDOUT"}`, nil,
			FromNango, KindUnavailable, "ETIMEDOUT"},
		{"internal server error", 500, errBody("server_error", "An unexpected error occurred"), nil,
			FromNango, KindUnavailable, "server_error"},
	})
}

// Graph's errors pass through Nango unchanged.
func TestClassifyGraphErrors(t *testing.T) {
	runClassify(t, []classifyCase{
		{"missing mail scope", 403, errBody("ErrorAccessDenied", "Access is denied. Check credentials and try again."), nil,
			FromGraph, KindAccessDenied, "ErrorAccessDenied"},
		{"missing directory scope", 403, errBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation."), nil,
			FromGraph, KindAccessDenied, "Authorization_RequestDenied"},
		{"item not found", 404, errBody("ErrorItemNotFound", "The specified object was not found in the store."), nil,
			FromGraph, KindNotFound, "ErrorItemNotFound"},
		{"directory object not found", 404, errBody("Request_ResourceNotFound", "Resource 'x' does not exist."), nil,
			FromGraph, KindNotFound, "Request_ResourceNotFound"},
		{"malformed id", 400, errBody("ErrorInvalidIdMalformed", "Id is malformed."), nil,
			FromGraph, KindBadRequest, "ErrorInvalidIdMalformed"},
		{"search with orderby", 400, errBody("SearchWithOrderBy", "Search with OrderBy is not supported."), nil,
			FromGraph, KindBadRequest, "SearchWithOrderBy"},
		{"throttled", 429, errBody("ApplicationThrottled", "Application is over its MailboxConcurrency limit."), []string{"Retry-After", "3"},
			FromGraph, KindRateLimited, "ApplicationThrottled"},
		{"unavailable", 503, errBody("ServiceNotAvailable", "Service unavailable"), nil,
			FromGraph, KindUnavailable, "ServiceNotAvailable"},
		{"unavailable no body", 503, "", nil,
			FromGraph, KindUnavailable, ""},
		{"gateway timeout html", 504, "<html><body>Gateway Timeout</body></html>", []string{"Content-Type", "text/html"},
			FromGraph, KindUnavailable, ""},
		{"bad token", 401, errBody("InvalidAuthenticationToken", "Access token has expired or is not yet valid."), nil,
			FromGraph, KindReauthorize, "InvalidAuthenticationToken"},
	})
}

// Microsoft Graph's documented generic error codes are camelCase
// (https://learn.microsoft.com/graph/errors: accessDenied, itemNotFound,
// activityLimitReached, generalException...): they are Graph's, not Nango's
// snake_case, and must keep their status-based meaning.
func TestClassifyGraphCamelCaseCodes(t *testing.T) {
	runClassify(t, []classifyCase{
		{"itemNotFound", 404, errBody("itemNotFound", "The resource could not be found."), nil,
			FromGraph, KindNotFound, "itemNotFound"},
		{"accessDenied", 403, errBody("accessDenied", "The caller does not have permission to perform the action."), nil,
			FromGraph, KindAccessDenied, "accessDenied"},
		{"activityLimitReached", 429, errBody("activityLimitReached", "The app or user has been throttled."), []string{"Retry-After", "1"},
			FromGraph, KindRateLimited, "activityLimitReached"},
		{"invalidRequest", 400, errBody("invalidRequest", "The request is malformed or incorrect."), nil,
			FromGraph, KindBadRequest, "invalidRequest"},
		{"generalException", 500, errBody("generalException", "An unspecified error has occurred."), nil,
			FromGraph, KindUnavailable, "generalException"},
	})
}

func TestRequestIDAndRetryAfterAreKept(t *testing.T) {
	e := doOnce(t, 429, errBody("ApplicationThrottled", "Application is over its MailboxConcurrency limit."),
		"Retry-After", "7", "request-id", "0f1e2d3c-aaaa-bbbb-cccc-000000000001")
	assert.Equal(t, 7*time.Second, e.RetryAfter)
	assert.Equal(t, "0f1e2d3c-aaaa-bbbb-cccc-000000000001", e.RequestID)

	e = doOnce(t, 404, errBody("ErrorItemNotFound", "The specified object was not found in the store."), "Request-Id", "abc")
	assert.Equal(t, "abc", e.RequestID)
	assert.Zero(t, e.RetryAfter)

	e = doOnce(t, 429, errBody("ApplicationThrottled", "x"), "Retry-After", time.Now().Add(20*time.Second).UTC().Format(http.TimeFormat))
	assert.InDelta(t, float64(20*time.Second), float64(e.RetryAfter), float64(2*time.Second), "HTTP-date Retry-After")
}

func TestRetryAfterParsing(t *testing.T) {
	future := time.Now().Add(30 * time.Second).UTC()
	tests := []struct {
		name  string
		value string
		want  time.Duration
		delta time.Duration
	}{
		{"absent", "", 0, 0},
		{"zero", "0", 0, 0},
		{"seconds", "5", 5 * time.Second, 0},
		{"large", "3600", time.Hour, 0},
		{"padded", " 7 ", 7 * time.Second, 0},
		{"negative", "-3", 0, 0},
		{"garbage", "soon", 0, 0},
		{"fraction", "1.5", 0, 0},
		{"HTTP date (RFC 1123)", future.Format(http.TimeFormat), 30 * time.Second, 2 * time.Second},
		{"HTTP date (RFC 850)", future.Format(time.RFC850), 30 * time.Second, 2 * time.Second},
		{"HTTP date (ANSI C)", future.Format(time.ANSIC), 30 * time.Second, 2 * time.Second},
		{"HTTP date in the past", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := retryAfter(tc.value)
			if tc.delta == 0 {
				assert.Equal(t, tc.want, got)
			} else {
				assert.InDelta(t, float64(tc.want), float64(got), float64(tc.delta))
			}
		})
	}
}

func TestErrorMessageFromNonJSONBody(t *testing.T) {
	long := strings.Repeat("x", 1000)
	e := doOnce(t, 502, "<html>"+long+"</html>", "Content-Type", "text/html")
	assert.Equal(t, FromGraph, e.Source)
	assertKind(t, KindUnavailable, e)
	assert.LessOrEqual(t, len(e.Message), 300, "the body is truncated")
	assert.True(t, strings.HasPrefix(e.Message, "<html>x"))
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Source: FromGraph, Status: 404, Code: "ErrorItemNotFound", Message: "The specified object was not found in the store."},
			"graph 404 ErrorItemNotFound: The specified object was not found in the store."},
		{&Error{Source: FromNango, Status: 400, Code: "server_error", Message: "Failed to get connection"},
			"nango 400 server_error: Failed to get connection"},
		{&Error{Source: FromNetwork, Message: "cannot reach Nango at http://x", Err: errors.New("connection refused")},
			"network: cannot reach Nango at http://x: connection refused"},
		{&Error{Source: FromGraph, Status: 503}, "graph 503"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.err.Error())
	}
}

func TestAsErrorAndUnwrap(t *testing.T) {
	inner := errors.New("boom")
	e := &Error{Source: FromNetwork, Kind: KindUnavailable, Err: inner}
	wrapped := fmt.Errorf("calling graph: %w", e)
	got, ok := AsError(wrapped)
	require.True(t, ok)
	assert.Same(t, e, got)
	assert.ErrorIs(t, wrapped, inner)

	_, ok = AsError(errors.New("plain"))
	assert.False(t, ok)
	_, ok = AsError(nil)
	assert.False(t, ok)
}

func TestUnreachableNangoIsANetworkError(t *testing.T) {
	f := newFakeNango(t)
	url := f.srv.URL
	f.srv.Close() // nothing listens there any more

	c := newClient(t, url, noRetries)
	err := c.Connection("conn-1").Do(context.Background(), Request{
		Method: http.MethodGet, Path: "/me/messages", Query: urlValues("$search", `"from:private-person"`),
	}, nil)
	e := requireNangoError(t, err)
	assert.Equal(t, FromNetwork, e.Source)
	assertKind(t, KindUnavailable, e)
	assert.Zero(t, e.Status)
	assert.NotNil(t, e.Err)
	assert.NotContains(t, err.Error(), "private-person", "the request URL (with user text) is scrubbed")
	assert.NotContains(t, err.Error(), "/proxy/", "the request URL is scrubbed")
}

func urlValues(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestSecretKeyNeverInErrors drives every failure path this package has and
// scans each error for the key.
func TestSecretKeyNeverInErrors(t *testing.T) {
	var errs []error
	collect := func(err error) {
		if err != nil { // a few paths legitimately succeed (a send ignores a 200 body)
			errs = append(errs, err)
		}
	}

	// Configuration errors, including near-misses of the real key.
	for _, key := range []string{testKey + " ", strings.ToUpper(testKey[:14]) + "1" + testKey[15:], testKey[:35], "Bearer " + testKey} {
		_, err := New(Config{SecretKey: key, IntegrationID: testIntegration})
		collect(err)
		assert.NotContains(t, err.Error(), strings.TrimSpace(key))
	}

	// A server that echoes the request's Authorization header back would
	// be a Nango bug; every other answer must not make us print the key.
	answers := []http.HandlerFunc{
		reply(401, errBody("missing_auth_header", "x")),
		reply(401, errBody("invalid_secret_key_format", "x")),
		reply(401, errBody("unknown_account", "x")),
		reply(403, errBody("forbidden", "Insufficient scope")),
		reply(400, errBody("invalid_headers", "x")),
		reply(404, errBody("unknown_provider_config", "x")),
		reply(400, errBody("server_error", "Failed to get connection")),
		reply(424, errBody("connection_refresh_backoff", "x")),
		reply(429, errBody("too_many_request", "x"), "Retry-After", "600"),
		reply(500, `{"message":"read ECONNRESET","code":"ECONNRESET"}`),
		reply(403, errBody("ErrorAccessDenied", "x")),
		reply(503, ""),
		reply(200, "{not json"),
		hangUp,
	}
	for _, h := range answers {
		f := newFakeNango(t, h)
		c := newClient(t, f.srv.URL, noRetries)
		conn := c.Connection("conn-1")
		var out map[string]any
		collect(conn.Do(context.Background(), get("/me"), &out))
		collect(conn.Do(context.Background(), sendMail(), nil))
		_, err := conn.Scopes(context.Background())
		collect(err)
		_, err = conn.ReconnectLink(context.Background(), []string{"Mail.Read"})
		collect(err)
	}

	// Refused links and an unreachable host.
	c := newClient(t, "http://127.0.0.1:1", noRetries)
	collect(c.Connection("conn-1").Do(context.Background(), get("https://evil.example.com/v1.0/me"), nil))
	collect(c.Connection("conn-1").Do(context.Background(), get("/me"), nil))
	_, err := c.Connection("conn-1").Scopes(context.Background())
	collect(err)

	require.Greater(t, len(errs), 4*len(answers), "most paths failed as intended")
	for _, err := range errs {
		assertNoSecret(t, err)
	}
}
