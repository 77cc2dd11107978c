package nango

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is a well-formed (UUID v4) Nango secret key. No error may ever
// contain it.
const testKey = "3f2c8a41-7b9e-4d6a-9c1e-5a7b3d2f8e90"

const testIntegration = "outlook"

// recordedRequest is what the fake Nango saw of one request.
type recordedRequest struct {
	Method     string
	RequestURI string // exactly as sent on the request line
	Header     http.Header
	Body       []byte
}

// fakeNango is an httptest server that records every request and answers
// the n-th one with the n-th handler (the last handler answers the rest).
type fakeNango struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recordedRequest
}

func newFakeNango(t *testing.T, handlers ...http.HandlerFunc) *fakeNango {
	t.Helper()
	f := &fakeNango{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recordedRequest{Method: r.Method, RequestURI: r.RequestURI, Header: r.Header.Clone(), Body: body})
		i := len(f.reqs) - 1
		f.mu.Unlock()
		if len(handlers) == 0 {
			w.WriteHeader(http.StatusOK)
			return
		}
		handlers[min(i, len(handlers)-1)](w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNango) requests() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.reqs...)
}

func (f *fakeNango) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

// only returns the single request the server saw.
func (f *fakeNango) only(t *testing.T) recordedRequest {
	t.Helper()
	reqs := f.requests()
	require.Len(t, reqs, 1, "expected exactly one request")
	return reqs[0]
}

// reply answers with status, body and header key/value pairs; a non-empty
// body is JSON unless a Content-Type is given.
func reply(status int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		if body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hangUp drops the connection without answering: a network failure.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// errBody is the {"error":{"code","message"}} shape Nango and Graph share.
func errBody(code, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": message}})
	return string(b)
}

// newClient builds a client of host with a fast backoff; opts adjust the config.
func newClient(t *testing.T, host string, opts ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Host: host, SecretKey: testKey, IntegrationID: testIntegration, Backoff: time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func withMaxRetries(n int) func(*Config) { return func(c *Config) { c.MaxRetries = n } }

// noRetries makes every failure come back after one request.
var noRetries = withMaxRetries(-1)

// requireNangoError asserts err is an *Error that does not leak the key.
func requireNangoError(t *testing.T, err error) *Error {
	t.Helper()
	require.Error(t, err)
	assertNoSecret(t, err)
	e, ok := AsError(err)
	require.True(t, ok, "want *nango.Error, got %T: %v", err, err)
	return e
}

// assertNoSecret checks every rendering of err for the secret key.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assert.NotContains(t, s, testKey, "the secret key leaked into an error")
		assert.NotContains(t, strings.ToLower(s), strings.ToLower(testKey), "the secret key leaked into an error")
	}
	if e, ok := AsError(err); ok && e.Err != nil {
		assert.NotContains(t, fmt.Sprintf("%#v", e.Err), testKey)
	}
}

// connectionJSON is Nango's GET /connections/{id} answer with the given
// granted scope string.
func connectionJSON(scope string) string {
	b, _ := json.Marshal(map[string]any{
		"connection_id":       "conn-1",
		"provider_config_key": testIntegration,
		"provider":            "microsoft",
		"errors":              []any{},
		"credentials": map[string]any{
			"type":         "OAUTH2",
			"access_token": "access-token",
			"expires_at":   "2026-01-01T00:00:00.000Z",
			"raw":          map[string]any{"scope": scope, "token_type": "Bearer"},
		},
	})
	return string(b)
}

// kindName makes Kind assertions readable when they fail.
func kindName(k Kind) string {
	names := map[Kind]string{
		KindOther: "Other", KindBadSecretKey: "BadSecretKey", KindUnknownIntegration: "UnknownIntegration",
		KindUnknownConnection: "UnknownConnection", KindReauthorize: "Reauthorize", KindRateLimited: "RateLimited",
		KindAccessDenied: "AccessDenied", KindNotFound: "NotFound", KindBadRequest: "BadRequest",
		KindUnavailable: "Unavailable", KindAmbiguous: "Ambiguous",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// assertKind compares kinds by name.
func assertKind(t *testing.T, want Kind, got *Error, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, kindName(want), kindName(got.Kind), msgAndArgs...)
}
