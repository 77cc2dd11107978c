package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testNow is a Wednesday: fixture times are relative to it.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var (
	fixtureOnce sync.Once
	fixtureData []byte
)

func newSim(t testing.TB, opts ...func(*Options)) *Sim {
	t.Helper()
	fixtureOnce.Do(func() {
		var err error
		fixtureData, err = os.ReadFile("../testdata/mailbox.json")
		require.NoError(t, err)
	})
	o := Options{Now: func() time.Time { return testNow }}
	for _, f := range opts {
		f(&o)
	}
	s, err := New(fixtureData, o)
	require.NoError(t, err)
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

// code is the error code of a Nango or Graph error body.
func (r response) code(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	require.NotNil(t, e, "not an error: %d %s", r.status, r.body)
	return e["code"].(string)
}

func (r response) message(t testing.TB) string {
	return r.json(t)["error"].(map[string]any)["message"].(string)
}

func (r response) values(t testing.TB) []map[string]any {
	t.Helper()
	raw, ok := r.json(t)["value"].([]any)
	require.True(t, ok, "no value: %d %s", r.status, r.body)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// serve sends one request to Nango with the given headers (name, value pairs).
func serve(s *Sim, method, target, body string, headers ...string) response {
	req := httptest.NewRequest(method, "https://api.nango.dev"+target, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

var authHeaders = []string{"Authorization", "Bearer " + DefaultSecretKey, "Provider-Config-Key", "outlook", "Connection-Id", "sandbox"}

// proxy calls Graph through the Nango proxy as the product does.
func proxy(s *Sim, method, graphPath, body string, headers ...string) response {
	h := append(append([]string{}, authHeaders...), headers...)
	if body != "" {
		h = append(h, "Content-Type", "application/json")
	}
	return serve(s, method, "/proxy"+graphPath, body, h...)
}

func get(s *Sim, graphPath string, headers ...string) response {
	return proxy(s, http.MethodGet, graphPath, "", headers...)
}

// q builds a query string from name, value pairs, encoded.
func q(pairs ...string) string {
	parts := make([]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, queryEscape(pairs[i])+"="+queryEscape(pairs[i+1]))
	}
	return "?" + strings.Join(parts, "&")
}

func (s *Sim) messageBySubject(t testing.TB, subject string) *message {
	t.Helper()
	return bySubject(t, s.box.messages, subject, func(m *message) string { return m.subject })
}

// bySubject finds the item with the given subject, or fails the test.
func bySubject[T any](t testing.TB, items []T, subject string, subjectOf func(T) string) T {
	t.Helper()
	for _, it := range items {
		if subjectOf(it) == subject {
			return it
		}
	}
	t.Fatalf("no %T with subject %q", *new(T), subject)
	return *new(T)
}

const q4Subject = `O'Brien's "Q4" plan – please review before Thursday`

func TestNewResolvesTheFixture(t *testing.T) {
	s := newSim(t)
	assert.Len(t, s.box.messages, 49+largeMessageCount, "the fixture's and the large ones (fixture_large.go)")
	assert.Len(t, s.box.events, 17+1)
	assert.Len(t, s.box.contacts, 12)

	m := s.messageBySubject(t, q4Subject)
	assert.Equal(t, "AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAADDx0pZ3Wt1vTqG8kY2bN4QhBwBCk7Hq2yR9uS5aT0dLmVw3xAAAAAAEMAABCk7Hq2yR9uS5aT0dLmVw3xAAMMg6sdAAA=", m.id, "ids are stable")
	assert.WithinDuration(t, testNow.Add(-2*time.Hour), m.received, time.Minute, `"-2h"`)
	assert.True(t, m.received.Before(testNow))

	_, err := New([]byte(`{"me":{"id":"x","userPrincipalName":"a@b.c"},"bogus":1}`), Options{})
	assert.ErrorContains(t, err, "bogus", "typos in the fixture are caught")
	_, err = New(fixtureData, Options{SecretKey: "not-a-uuid"})
	assert.Error(t, err)
}

func TestRelativeTimes(t *testing.T) {
	c := clock{now: testNow, today: testNow.Truncate(24 * time.Hour)}
	saturday := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	weekend := clock{now: saturday, today: saturday.Truncate(24 * time.Hour)}
	for _, tc := range []struct {
		c    clock
		in   string
		want string
	}{
		{c, "-2d 09:15", "2026-11-23T09:15:00Z"},
		{c, "+1d 14:00", "2026-11-26T14:00:00Z"},
		{c, "0d 10:30", "2026-11-25T10:30:00Z"},
		{c, "-3h", "2026-11-25T09:00:00Z"},
		{c, "+90m", "2026-11-25T13:30:00Z"},
		{c, "+7d", "2026-12-02T00:00:00Z"},
		{c, "+3wd 12:00", "2026-11-30T12:00:00Z"}, // Thu, Fri, Mon
		{c, "-3wd", "2026-11-20T00:00:00Z"},       // Tue, Mon, Fri
		{weekend, "0wd 13:00", "2026-11-30T13:00:00Z"},
		{weekend, "-1wd", "2026-11-27T00:00:00Z"},
		{c, "now", "2026-11-25T12:00:00Z"},
		{c, "2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"},
	} {
		got, err := tc.c.resolve(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, isoZ(got), tc.in)
	}
	for _, bad := range []string{"yesterday", "-2d 25:00", "+1x"} {
		_, err := c.resolve(bad)
		assert.Error(t, err, bad)
	}
}

func TestNangoAuthentication(t *testing.T) {
	s := newSim(t)
	for _, tc := range []struct {
		auth, code string
	}{
		{"", "missing_auth_header"},
		{"Bearer ", "malformed_auth_header"},
		{"Bearer sk-1234", "invalid_secret_key_format"},
		{"Bearer 0f8e1d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f", "unknown_account"},
	} {
		for _, target := range []string{"/proxy/v1.0/me", "/connections/sandbox?provider_config_key=outlook", "/connect/sessions/reconnect"} {
			var headers []string
			if tc.auth != "" {
				headers = []string{"Authorization", tc.auth}
			}
			r := serve(s, http.MethodGet, target, "", headers...)
			assert.Equal(t, 401, r.status, "%s %q", target, tc.auth)
			assert.Equal(t, tc.code, r.code(t), "%s %q", target, tc.auth)
		}
	}
}

func TestProxyNangoErrors(t *testing.T) {
	s := newSim(t)
	auth := []string{"Authorization", "Bearer " + DefaultSecretKey}

	r := serve(s, "GET", "/proxy/v1.0/me", "", append(auth, "Provider-Config-Key", "outlook")...)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "invalid_headers", r.code(t))

	r = serve(s, "GET", "/proxy/v1.0/me", "", append(auth, "Provider-Config-Key", "gmail", "Connection-Id", "sandbox")...)
	assert.Equal(t, 404, r.status)
	assert.Equal(t, "unknown_provider_config", r.code(t))

	r = serve(s, "GET", "/proxy/v1.0/me", "", append(auth, "Provider-Config-Key", "outlook", "Connection-Id", "bob")...)
	assert.Equal(t, 400, r.status, "Nango answers 400 for an unknown connection on the proxy")
	assert.Equal(t, "server_error", r.code(t))
	assert.Equal(t, "Failed to get connection", r.message(t))

	s = newSim(t, func(o *Options) { o.RefreshFailed = true })
	r = get(s, "/v1.0/me")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "server_error", r.code(t))
	assert.Contains(t, r.message(t), "Failed to get connection credentials")
	assert.Contains(t, r.message(t), "refresh the access token")
}

func TestOnlyNangoProxyHeadersReachGraph(t *testing.T) {
	s := newSim(t)
	id := s.messageBySubject(t, q4Subject).id

	// A plain Prefer header stops at Nango: Graph answers HTML.
	r := get(s, "/v1.0/me/messages/"+id+"?$select=body", "Prefer", `outlook.body-content-type="text"`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, "html", r.json(t)["body"].(map[string]any)["contentType"])
	assert.Empty(t, r.header.Get("Preference-Applied"))

	r = get(s, "/v1.0/me/messages/"+id+"?$select=body", "Nango-Proxy-Prefer", `outlook.body-content-type="text"`)
	body := r.json(t)["body"].(map[string]any)
	assert.Equal(t, "text", body["contentType"])
	assert.NotContains(t, body["content"], "<p>")
	assert.Contains(t, body["content"], "O'Brien's \"Q4\" plan")
	assert.Equal(t, `outlook.body-content-type="text"`, r.header.Get("Preference-Applied"))

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.True(t, reqs[0].Proxy)
	assert.Equal(t, "/v1.0/me/messages/"+id, reqs[0].Path)
	assert.Empty(t, reqs[0].Header.Get("Prefer"), "Graph never saw it")
	assert.Equal(t, `outlook.body-content-type="text"`, reqs[0].NangoHeader.Get("Prefer"))
	assert.Equal(t, `outlook.body-content-type="text"`, reqs[1].Header.Get("Prefer"))
	assert.Empty(t, reqs[1].Header.Get("Authorization"), "Nango's own headers are not forwarded")
	assert.Equal(t, "body", reqs[1].Query.Get("$select"))
}

func TestEveryGraphAnswerCarriesARequestID(t *testing.T) {
	s := newSim(t)
	ok := get(s, "/v1.0/me")
	assert.Regexp(t, `^[0-9a-f-]{36}$`, ok.header.Get("request-id"))

	r := get(s, "/v1.0/me/messages/AAMkAGI2TG93AAA=", "Nango-Proxy-client-request-id", "c0ffee00-0000-4000-8000-000000000001")
	assert.Equal(t, 404, r.status)
	inner := r.json(t)["error"].(map[string]any)["innerError"].(map[string]any)
	assert.Equal(t, r.header.Get("request-id"), inner["request-id"])
	assert.Equal(t, "c0ffee00-0000-4000-8000-000000000001", inner["client-request-id"])
	assert.Equal(t, "2026-11-25T12:00:00", inner["date"])
}

func TestSendMailThroughNango(t *testing.T) {
	s := newSim(t)
	msg := `{"subject":"Lunch?","body":{"contentType":"Text","content":"Friday at noon?\nPriya"},` +
		`"toRecipients":[{"emailAddress":{"address":"omar.haddad@northwindtraders.com","name":"Omar Haddad"}}],"importance":"high"}`
	r := proxy(s, "POST", "/v1.0/me/sendMail", `{"message":`+msg+`,"saveToSentItems":true}`)
	assert.Equal(t, 200, r.status, "Graph's 202 comes back as 200 through Nango")
	assert.Empty(t, r.body)
	assert.Equal(t, "application/octet-stream", r.header.Get("Content-Type"))
	require.Len(t, s.Sent(), 1)
	assert.JSONEq(t, msg, string(s.Sent()[0]))

	// It is in Sent Items, newest first, with the text body as HTML by default.
	list := get(s, "/v1.0/me/mailFolders/SentItems/messages?$top=1&$select=subject,toRecipients,body,importance").values(t)
	require.Len(t, list, 1)
	assert.Equal(t, "Lunch?", list[0]["subject"])
	assert.Equal(t, "high", list[0]["importance"])
	assert.Contains(t, list[0]["body"].(map[string]any)["content"], "Friday at noon?<br>")

	// saveToSentItems false: sent, not saved.
	r = proxy(s, "POST", "/v1.0/me/sendMail", `{"message":`+strings.Replace(msg, "Lunch?", "Quiet", 1)+`,"saveToSentItems":false}`)
	assert.Equal(t, 200, r.status)
	assert.Len(t, s.Sent(), 2)
	list = get(s, "/v1.0/me/mailFolders/sentitems/messages?$top=1&$select=subject").values(t)
	assert.Equal(t, "Lunch?", list[0]["subject"])
}

func TestSendMailValidation(t *testing.T) {
	s := newSim(t)
	to := `"toRecipients":[{"emailAddress":{"address":"ann.fischer@contoso.com"}}]`
	for _, tc := range []struct {
		body, code string
	}{
		{``, "BadRequest"},
		{`{"message":`, "BadRequest"},
		{`{"saveToSentItems":true}`, "ErrorInvalidParameter"},
		{`{"message":{"subject":"x"}}`, "ErrorInvalidRecipients"},
		{`{"message":{"subject":"x","toRecipients":[{"emailAddress":{"address":"ann@"}}]}}`, "ErrorInvalidRecipients"},
		{`{"message":{"subject":"x","toRecipients":[{"emailAddress":{"address":"Ann <ann@contoso.com>"}}]}}`, "ErrorInvalidRecipients"},
		{`{"message":{"subject":"x","to":["ann@contoso.com"]}}`, "RequestBodyRead"},
		{`{"message":{"subject":"x",` + to + `,"body":{"contentType":"markdown","content":"*hi*"}}}`, "RequestBodyRead"},
		{`{"message":{"subject":"x",` + to + `,"importance":"urgent"}}`, "RequestBodyRead"},
	} {
		r := proxy(s, "POST", "/v1.0/me/sendMail", tc.body)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}
	assert.Empty(t, s.Sent())
	r := proxy(s, "POST", "/v1.0/me/sendMail", `{"message":{"subject":"x",`+to+`}}`)
	assert.Equal(t, 200, r.status, string(r.body))
}

func TestScopesAreEnforced(t *testing.T) {
	s := newSim(t, func(o *Options) { o.Scopes = []string{"User.Read", "offline_access"} })
	for _, path := range []string{"/v1.0/me/messages", "/v1.0/me/calendarView", "/v1.0/me/contacts", "/v1.0/me/people"} {
		r := get(s, path)
		assert.Equal(t, 403, r.status, path)
		assert.Equal(t, "ErrorAccessDenied", r.code(t), path)
		assert.Equal(t, "Access is denied. Check credentials and try again.", r.message(t))
	}
	r := get(s, "/v1.0/users")
	assert.Equal(t, 403, r.status)
	assert.Equal(t, "Authorization_RequestDenied", r.code(t))
	assert.Equal(t, "Insufficient privileges to complete the operation.", r.message(t))
	r = proxy(s, "POST", "/v1.0/me/sendMail", `{}`)
	assert.Equal(t, "ErrorAccessDenied", r.code(t), "scopes are checked before anything else")
	assert.Equal(t, 200, get(s, "/v1.0/me").status)

	// Mail.ReadBasic lists without bodies but cannot read a message.
	s.SetScopes("https://graph.microsoft.com/mail.readbasic")
	list := get(s, "/v1.0/me/messages?$top=1")
	require.Equal(t, 200, list.status, string(list.body))
	assert.NotContains(t, list.values(t)[0], "body")
	assert.NotContains(t, list.values(t)[0], "bodyPreview")
	assert.Equal(t, 403, get(s, "/v1.0/me/messages/"+s.messageBySubject(t, q4Subject).id).status)

	// Hierarchies are implied: Mail.ReadWrite reads, but does not send.
	s.SetScopes("Mail.ReadWrite", "Calendars.Read")
	assert.Equal(t, 200, get(s, "/v1.0/me/messages/"+s.messageBySubject(t, q4Subject).id).status)
	assert.Equal(t, 403, proxy(s, "POST", "/v1.0/me/sendMail", `{}`).status)
	assert.Equal(t, 200, get(s, "/v1.0/me/calendarView?startDateTime=2026-11-25&endDateTime=2026-11-26").status)
}

func TestConnectionEndpoint(t *testing.T) {
	for _, tc := range []struct {
		format ScopeFormat
		want   string
	}{
		{ScopesURL, "https://graph.microsoft.com/Mail.Read https://graph.microsoft.com/User.Read offline_access openid"},
		{ScopesPlain, "Mail.Read User.Read offline_access openid profile email"},
	} {
		s := newSim(t, func(o *Options) {
			o.Scopes = []string{"Mail.Read", "User.Read", "offline_access"}
			o.ScopeFormat = tc.format
		})
		for _, path := range []string{"/connections/sandbox", "/connection/sandbox"} {
			r := serve(s, "GET", path+"?provider_config_key=outlook", "", authHeaders[:2]...)
			require.Equal(t, 200, r.status, string(r.body))
			c := r.json(t)
			assert.Equal(t, "sandbox", c["connection_id"])
			assert.Equal(t, "outlook", c["provider_config_key"])
			assert.Equal(t, "microsoft", c["provider"])
			assert.Empty(t, c["errors"])
			creds := c["credentials"].(map[string]any)
			assert.Equal(t, "OAUTH2", creds["type"])
			assert.NotEmpty(t, creds["access_token"])
			assert.NotContains(t, creds, "refresh_token", "only with refresh_token=true")
			raw := creds["raw"].(map[string]any)
			assert.Equal(t, tc.want, raw["scope"])
			assert.Equal(t, "Bearer", raw["token_type"])
			expires, err := time.Parse(time.RFC3339, creds["expires_at"].(string))
			require.NoError(t, err)
			assert.True(t, expires.After(testNow))
		}
	}

	s := newSim(t, func(o *Options) { o.HideCredentials = true })
	r := serve(s, "GET", "/connections/sandbox?provider_config_key=outlook", "", authHeaders[:2]...)
	assert.Equal(t, map[string]any{}, r.json(t)["credentials"])

	s = newSim(t, func(o *Options) { o.RefreshFailed = true })
	r = serve(s, "GET", "/connections/sandbox?provider_config_key=outlook", "", authHeaders[:2]...)
	errs := r.json(t)["errors"].([]any)
	require.Len(t, errs, 1)
	assert.Equal(t, "auth", errs[0].(map[string]any)["type"])

	for _, tc := range []struct {
		target, code string
		status       int
	}{
		{"/connections/sandbox?provider_config_key=outlook&include=all", "invalid_query_params", 400},
		{"/connections/sandbox", "invalid_query_params", 400},
		{"/connections/sandbox?provider_config_key=gmail", "unknown_provider_config", 400},
		{"/connections/alice?provider_config_key=outlook", "not_found", 404},
	} {
		r := serve(s, "GET", tc.target, "", authHeaders[:2]...)
		assert.Equal(t, tc.status, r.status, tc.target)
		assert.Equal(t, tc.code, r.code(t), tc.target)
	}

	// SetScopes shows in the next answer.
	s = newSim(t, func(o *Options) { o.ScopeFormat = ScopesPlain })
	s.SetScopes("User.Read", "Mail.Send")
	r = serve(s, "GET", "/connections/sandbox?provider_config_key=outlook", "", authHeaders[:2]...)
	scope := r.json(t)["credentials"].(map[string]any)["raw"].(map[string]any)["scope"]
	assert.Equal(t, "User.Read Mail.Send openid profile email", scope)
}

func TestReconnect(t *testing.T) {
	s := newSim(t)
	body := `{"connection_id":"sandbox","integration_id":"outlook","integrations_config_defaults":{"outlook":{` +
		`"connection_config":{"oauth_scopes_override":"offline_access, User.Read,Mail.Read,Mail.Send"},"authorization_params":{"prompt":"consent"}}}}`
	r := serve(s, "POST", "/connect/sessions/reconnect", body, authHeaders[:2]...)
	require.Equal(t, 201, r.status, string(r.body))
	data := r.json(t)["data"].(map[string]any)
	assert.True(t, strings.HasPrefix(data["connect_link"].(string), "https://connect.nango.dev/?session_token="+data["token"].(string)))
	expires, err := time.Parse(time.RFC3339, data["expires_at"].(string))
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(30*time.Minute), expires)
	assert.Equal(t, []ReconnectRequest{{
		ConnectionID: "sandbox", IntegrationID: "outlook",
		Scopes: []string{"offline_access", "User.Read", "Mail.Read", "Mail.Send"}, Prompt: "consent",
	}}, s.Reconnects())

	for _, tc := range []struct{ body, code string }{
		{`{"connection_id":"bob","integration_id":"outlook"}`, "invalid_body"},
		{`{"connection_id":"sandbox"}`, "invalid_body"},
		{`{"connection_id":"sandbox","integration_id":"outlook","scopes":"x"}`, "invalid_body"},
		{`{"connection_id":"sandbox","integration_id":"outlook","integrations_config_defaults":{"gmail":{}}}`, "invalid_body"},
	} {
		r := serve(s, "POST", "/connect/sessions/reconnect", tc.body, authHeaders[:2]...)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}
	assert.Len(t, s.Reconnects(), 1)

	s = newSim(t, func(o *Options) { o.DenyReconnect = true })
	r = serve(s, "POST", "/connect/sessions/reconnect", body, authHeaders[:2]...)
	assert.Equal(t, 403, r.status)
	assert.Equal(t, "forbidden", r.code(t))
	assert.Empty(t, s.Reconnects())
}

func TestMessageFilters(t *testing.T) {
	s := newSim(t)
	inbox := "/v1.0/me/mailFolders/Inbox/messages"
	for _, tc := range []struct {
		filter string
		check  func(m map[string]any) bool
		min    int
	}{
		{"isRead eq false", func(m map[string]any) bool { return m["isRead"] == false }, 5},
		{"hasAttachments eq true", func(m map[string]any) bool { return m["hasAttachments"] == true }, 5},
		{"receivedDateTime ge 2026-11-24T00:00:00Z and isRead eq false", func(m map[string]any) bool {
			return m["receivedDateTime"].(string) >= "2026-11-24" && m["isRead"] == false
		}, 3},
		{"from/emailAddress/address eq 'DANIEL.OBRIEN@contoso.com'", func(m map[string]any) bool {
			return m["from"].(map[string]any)["emailAddress"].(map[string]any)["address"] == "daniel.obrien@contoso.com"
		}, 2},
		{"subject eq 'O''Brien''s \"Q4\" plan – please review before Thursday'", func(m map[string]any) bool { return m["subject"] == q4Subject }, 1},
		{"receivedDateTime lt 2026-11-20T00:00:00Z or importance eq 'high'", func(m map[string]any) bool {
			return m["receivedDateTime"].(string) < "2026-11-20" || m["importance"] == "high"
		}, 4},
	} {
		r := get(s, inbox+q("$filter", tc.filter, "$top", "100", "$select", "isRead,hasAttachments,receivedDateTime,from,subject,importance"))
		require.Equal(t, 200, r.status, "%s: %s", tc.filter, r.body)
		list := r.values(t)
		assert.GreaterOrEqual(t, len(list), tc.min, tc.filter)
		for _, m := range list {
			assert.True(t, tc.check(m), "%s: %v", tc.filter, m)
		}
	}

	// Ordered by receivedDateTime, the filter must start with it.
	r := get(s, inbox+q("$filter", "isRead eq false", "$orderby", "receivedDateTime desc"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "InefficientFilter", r.code(t))
	assert.Equal(t, "The restriction or sort order is too complex for this operation.", r.message(t))
	r = get(s, inbox+q("$filter", "receivedDateTime ge 2026-11-01T00:00:00Z and isRead eq false", "$orderby", "receivedDateTime asc"))
	require.Equal(t, 200, r.status, string(r.body))
	list := r.values(t)
	for i := 1; i < len(list); i++ {
		assert.LessOrEqual(t, list[i-1]["receivedDateTime"], list[i]["receivedDateTime"], "ascending")
	}

	for _, bad := range []string{
		"isRead eq 'false'",                        // wrong literal type
		"receivedDateTime ge '2026-11-01'",         // a date is not a string
		"foo eq 1",                                 // unknown property
		"isRead eq",                                // syntax
		"from/emailAddress/address eq 'unclosed",   // unterminated literal
		"endswith(subject,'plan')",                 // unsupported function
		"emailAddresses/any(a:a/address eq 'x@y')", // not a message property
	} {
		r := get(s, inbox+q("$filter", bad))
		assert.Equal(t, 400, r.status, bad)
		assert.Equal(t, "ErrorInvalidUrlQueryFilter", r.code(t), bad)
	}
	assert.Equal(t, 404, get(s, "/v1.0/me/mailFolders/nosuchfolder/messages").status)
	assert.Equal(t, "ErrorItemNotFound", get(s, "/v1.0/me/mailFolders/nosuchfolder/messages").code(t))
}

func TestMessageSearch(t *testing.T) {
	s := newSim(t)
	search := func(expr string, extra ...string) response {
		return get(s, "/v1.0/me/messages"+q(append([]string{"$search", expr, "$top", "50", "$select", "subject,receivedDateTime,from,hasAttachments"}, extra...)...))
	}
	subjects := func(r response) []string {
		var out []string
		for _, m := range r.values(t) {
			out = append(out, m["subject"].(string))
		}
		return out
	}

	// KQL escaping: the whole expression in quotes, inner quotes backslash-escaped.
	r := search(`"O'Brien's \"Q4\" plan"`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Contains(t, subjects(r), q4Subject)
	r = search(`"subject:\"Q4\" plan O'Brien's"`)
	assert.Equal(t, []string{q4Subject}, subjects(r))
	r = search(`"O'Brien's "Q4" plan"`) // inner quotes not escaped
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "BadRequest", r.code(t))
	assert.Equal(t, 400, search(`pizza`).status, "the expression must be quoted")
	assert.Equal(t, 400, search(`"unterminated`).status)
	assert.Equal(t, 400, search(`"bad \escape"`).status)

	for _, tc := range []struct {
		expr string
		want []string // each must be found
		none []string // none may be found
	}{
		{`"from:daniel subject:headcount"`, []string{"Headcount plan for H1"}, []string{q4Subject}},
		{`"from:obrien@contoso.com"`, []string{q4Subject, "Headcount plan for H1"}, []string{"Lunch next week?"}},
		{`"budget OR lunch"`, []string{"FY27 budget template – due Friday", "Lunch next week?"}, nil},
		{`"budget AND lunch"`, nil, []string{"FY27 budget template – due Friday", "Lunch next week?"}},
		{`"hasAttachments:true received>=2026-11-20"`, []string{q4Subject, "Thanks for the interview session"}, []string{"Signed: Northwind partnership MOU"}},
		{`"received:2026-11-12"`, []string{"Headcount plan for H1"}, []string{q4Subject}}, // -9wd
		{`"received<=2026-10-22"`, []string{"Signed: Northwind partnership MOU", "Atlas beta kickoff – notes and next steps"}, []string{q4Subject}},
		{`"received<2026-10-22"`, []string{"Signed: Northwind partnership MOU"}, []string{"Atlas beta kickoff – notes and next steps"}},
		{`"participants:elena.petrova@fabrikam.com"`, []string{"Renewal questions before our call", "RE: Renewal questions before our call"}, nil},
		{`"attachment:redline"`, []string{"DPA redlines from Fabrikam legal"}, nil},
		{`"body:\"token bucket\""`, []string{"[Atlas] Pull request 1842: Add tenant-level rate limiting is ready for review"}, nil},
		{`"rate-limit NOT from:lukas"`, nil, []string{"Quick question on the rate-limit defaults"}},
		{`"budg"`, []string{"FY27 budget template – due Friday"}, nil}, // prefix of a word
		{`"udget"`, nil, []string{"FY27 budget template – due Friday"}},
		// A term matches the start of a word, never a longer term: "limits"
		// is not found in "rate-limit defaults"; KQL's trailing wildcard is
		// the same prefix match, in a property too.
		{`"rate limits from:lukas"`, nil, []string{"Quick question on the rate-limit defaults"}},
		{`"rate limit* from:lukas"`, []string{"Quick question on the rate-limit defaults", "RE: Quick question on the rate-limit defaults"}, nil},
		{`"subject:budg*"`, []string{"FY27 budget template – due Friday"}, nil},
		{`"bud*et"`, nil, []string{"FY27 budget template – due Friday"}}, // only a trailing * is a wildcard
		{`"*udget"`, nil, []string{"FY27 budget template – due Friday"}},
		{`"*"`, nil, []string{"FY27 budget template – due Friday"}},
	} {
		r := search(tc.expr)
		require.Equal(t, 200, r.status, "%s: %s", tc.expr, r.body)
		got := subjects(r)
		for _, w := range tc.want {
			assert.Contains(t, got, w, tc.expr)
		}
		for _, n := range tc.none {
			assert.NotContains(t, got, n, tc.expr)
		}
		list := r.values(t)
		for i := 1; i < len(list); i++ {
			assert.GreaterOrEqual(t, list[i-1]["receivedDateTime"], list[i]["receivedDateTime"], "%s: newest first", tc.expr)
		}
	}

	r = search(`"budget"`, "$orderby", "receivedDateTime desc")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "SearchWithOrderBy", r.code(t))
	r = search(`"budget"`, "$filter", "isRead eq false")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "ErrorInvalidUrlQuery", r.code(t))

	// A search in a folder stays in it.
	r = get(s, "/v1.0/me/mailFolders/junkemail/messages"+q("$search", `"parcel OR mailbox"`))
	assert.Len(t, r.values(t), 2)
}

func TestPagingFollowsNextLink(t *testing.T) {
	s := newSim(t)
	path := "/v1.0/me/mailFolders/inbox/messages" + q("$select", "subject,receivedDateTime", "$filter", "receivedDateTime ge 2026-11-01T00:00:00Z", "$top", "4")
	seen := map[string]bool{}
	var last string
	pages := 0
	for path != "" {
		r := get(s, path)
		require.Equal(t, 200, r.status, string(r.body))
		pages++
		for _, m := range r.values(t) {
			id := m["id"].(string)
			assert.False(t, seen[id], "no message twice")
			seen[id] = true
			if last != "" {
				assert.LessOrEqual(t, m["receivedDateTime"], last)
			}
			last = m["receivedDateTime"].(string)
		}
		next, _ := r.json(t)["@odata.nextLink"].(string)
		if next == "" {
			break
		}
		require.True(t, strings.HasPrefix(next, "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?"), next)
		assert.Contains(t, next, "$filter=receivedDateTime%20ge%202026-11-01T00%3A00%3A00Z", "properly encoded")
		u, err := url.Parse(next)
		require.NoError(t, err)
		assert.Equal(t, "4", u.Query().Get("$top"))
		assert.Equal(t, fmt.Sprint(pages*4), u.Query().Get("$skip"))
		path = strings.TrimPrefix(next, "https://graph.microsoft.com")
	}
	assert.Len(t, seen, 29, "the whole inbox")
	assert.Equal(t, 8, pages)

	r := get(s, "/v1.0/me/messages?$top=1001")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, 400, get(s, "/v1.0/me/messages?$top=ten").status)
	assert.Equal(t, 400, get(s, "/v1.0/me/messages?$top=0").status)
	assert.Equal(t, "Query option '$selct' is not supported.", get(s, "/v1.0/me/messages?$selct=subject").message(t))
	assert.Len(t, get(s, "/v1.0/me/messages").values(t), 10, "default page size")
	r = get(s, "/v1.0/me/messages?$count=true&$top=1")
	assert.EqualValues(t, 49+largeMessageCount, r.json(t)["@odata.count"])
}

func TestGetMessage(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, "RE: Onboarding flow – feedback on v4")
	for _, mm := range s.box.messages { // the latest of the thread, with attachments
		if mm.subject == m.subject && mm.received.After(m.received) {
			m = mm
		}
	}
	r := get(s, "/v1.0/me/messages/"+m.id+"?$select=subject,from,uniqueBody&$expand=attachments($select=id,name,contentType,size,isInline)",
		"Nango-Proxy-Prefer", `outlook.body-content-type="text"`, "Nango-Proxy-Prefer", `IdType="ImmutableId"`)
	require.Equal(t, 200, r.status, string(r.body))
	got := r.json(t)
	assert.ElementsMatch(t, []string{"@odata.context", "@odata.etag", "id", "subject", "from", "uniqueBody", "attachments"}, keys(got))
	assert.Equal(t, m.immID, got["id"], "the immutable form was asked for")
	assert.True(t, strings.HasPrefix(m.immID, "AAkALg"))
	assert.Equal(t, m.id, get(s, "/v1.0/me/messages/"+m.immID+"?$select=id").json(t)["id"], "either form finds the item")
	unique := got["uniqueBody"].(map[string]any)["content"].(string)
	assert.Contains(t, unique, "As promised, v5 is attached")
	assert.NotContains(t, unique, "From:", "uniqueBody leaves out the quoted thread")
	atts := got["attachments"].([]any)
	require.Len(t, atts, 2)
	first := atts[0].(map[string]any)
	assert.Equal(t, "Onboarding-flow-v5.pdf", first["name"])
	assert.NotContains(t, first, "contentBytes")
	assert.Equal(t, true, atts[1].(map[string]any)["isInline"])
	assert.Contains(t, r.header.Get("Preference-Applied"), `outlook.body-content-type="text"`)
	assert.Contains(t, r.header.Get("Preference-Applied"), `IdType="ImmutableId"`)

	// The full message quotes the thread, HTML by default.
	full := get(s, "/v1.0/me/messages/"+m.id).json(t)
	assert.Equal(t, "html", full["body"].(map[string]any)["contentType"])
	assert.Contains(t, full["body"].(map[string]any)["content"], `<div id="divRplyFwdMsg"`)
	assert.NotContains(t, full, "uniqueBody", "only when selected")
	assert.True(t, strings.HasPrefix(full["webLink"].(string), "https://outlook.office365.com/owa/?ItemID="))
	assert.Equal(t, m.conversationID, full["conversationId"])
	assert.LessOrEqual(t, len([]rune(full["bodyPreview"].(string))), 255)

	// The attachment's bytes.
	aid := first["id"].(string)
	raw := get(s, "/v1.0/me/messages/"+m.id+"/attachments/"+aid+"/$value")
	assert.Equal(t, 200, raw.status)
	assert.Equal(t, "application/pdf", raw.header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(raw.body), "%PDF"))

	for _, tc := range []struct {
		id, code string
		status   int
	}{
		{"AAMkAGI2TG93AAA=", "ErrorItemNotFound", 404},
		{"AAMkAD", "ErrorInvalidIdMalformed", 400},
		{"not%20an%20id%21%21%21%21%21%21%21%21", "ErrorInvalidIdMalformed", 400},
		{"..%2F..%2Fme%2FsendMail", "ErrorInvalidIdMalformed", 400},
	} {
		r := get(s, "/v1.0/me/messages/"+tc.id)
		assert.Equal(t, tc.status, r.status, tc.id)
		assert.Equal(t, tc.code, r.code(t), tc.id)
	}
	assert.Equal(t, "The specified object was not found in the store.", get(s, "/v1.0/me/messages/AAMkAGI2TG93AAA=").message(t))
	assert.Equal(t, "Id is malformed.", get(s, "/v1.0/me/messages/AAMkAD").message(t))
	assert.Equal(t, "/v1.0/me/messages/..%2F..%2Fme%2FsendMail", s.Requests()[len(s.Requests())-3].RawPath)

	r = get(s, "/v1.0/me/messages/"+m.id+"?$select=subject,nope")
	assert.Equal(t, 400, r.status)
	assert.Contains(t, r.message(t), "'nope'")
	assert.Equal(t, 400, get(s, "/v1.0/me/messages/"+m.id+"?$expand=mentions").status)

	// A meeting invitation is an eventMessageRequest.
	invite := get(s, "/v1.0/me/messages/"+s.messageBySubject(t, "Atlas launch readiness review").id).json(t)
	assert.Equal(t, "#microsoft.graph.eventMessageRequest", invite["@odata.type"])
	assert.Equal(t, "meetingRequest", invite["meetingMessageType"])
}

func TestAttachmentsCarryTheirBytes(t *testing.T) {
	s := newSim(t)
	var raw struct {
		Messages []struct {
			Subject     string `json:"subject"`
			Attachments []struct {
				Name  string `json:"name"`
				Bytes string `json:"contentBytes"`
			} `json:"attachments"`
		} `json:"messages"`
	}
	require.NoError(t, json.Unmarshal(fixtureData, &raw))
	fixtureBytes := map[string][]byte{}
	for _, m := range raw.Messages {
		for _, a := range m.Attachments {
			if a.Bytes != "" {
				b, err := base64.StdEncoding.DecodeString(a.Bytes)
				require.NoError(t, err)
				fixtureBytes[a.Name] = b
			}
		}
	}
	require.Len(t, fixtureBytes, 3, "the PDF, the DOCX and the PNG")

	attachments := func(subject string) (string, []map[string]any) {
		m := s.messageBySubject(t, subject)
		for _, mm := range s.box.messages { // the latest message of that subject
			if mm.subject == subject && mm.received.After(m.received) {
				m = mm
			}
		}
		r := get(s, "/v1.0/me/messages/"+m.id+"/attachments"+q("$select", "id,name,contentType,size,isInline"))
		require.Equal(t, 200, r.status, string(r.body))
		return m.id, r.values(t)
	}
	value := func(id string, a map[string]any) response {
		return get(s, "/v1.0/me/messages/"+id+"/attachments/"+a["id"].(string)+"/$value")
	}

	// Files: $value is the bytes, through Nango untouched, with their type;
	// the size is the bytes' and a list never carries them.
	for subject, name := range map[string]string{"RE: Onboarding flow – feedback on v4": "Onboarding-flow-v5.pdf", q4Subject: "Q4 Plan - Atlas v3.docx"} {
		id, list := attachments(subject)
		a := list[0]
		assert.Equal(t, name, a["name"])
		assert.NotContains(t, a, "contentBytes")
		assert.EqualValues(t, len(fixtureBytes[name])+180, a["size"])
		r := value(id, a)
		require.Equal(t, 200, r.status)
		assert.Equal(t, fixtureBytes[name], r.body, name)
		assert.Equal(t, a["contentType"], r.header.Get("Content-Type"))
	}
	id, list := attachments("RE: Onboarding flow – feedback on v4")
	assert.Equal(t, fixtureBytes["image001.png"], value(id, list[1]).body)

	// An attached email is an itemAttachment: no content type, no
	// contentBytes; its $value is the email in MIME.
	id, list = attachments("Signed: Northwind partnership MOU")
	item := list[1]
	assert.Equal(t, "#microsoft.graph.itemAttachment", item["@odata.type"])
	assert.Nil(t, item["contentType"])
	full := get(s, "/v1.0/me/messages/"+id+"/attachments/"+item["id"].(string)).json(t)
	assert.NotContains(t, full, "contentBytes")
	r := value(id, item)
	assert.Equal(t, "message/rfc822", r.header.Get("Content-Type"))
	assert.Contains(t, string(r.body), "Subject: RE: MOU - final wording\r\n")

	// A reference attachment is a link: it has no $value.
	id, list = attachments("Thanks for the interview session")
	assert.Equal(t, "#microsoft.graph.referenceAttachment", list[1]["@odata.type"])
	assert.Equal(t, 405, value(id, list[1]).status)

	// A text attachment and one the fixture only describes (its size stated).
	id, list = attachments("Churn model results (Atlas beta cohort)")
	assert.True(t, strings.HasPrefix(string(value(id, list[2]).body), "segment,tenants,churned"))
	assert.Equal(t, "atlas-beta-events-raw.csv", list[3]["name"])
	assert.EqualValues(t, 27262976, list[3]["size"])

	// A file attached to a sent message is a fileAttachment too.
	r = proxy(s, "POST", "/v1.0/me/sendMail", `{"message":{"subject":"Notes","toRecipients":[{"emailAddress":{"address":"ann.fischer@contoso.com"}}],`+
		`"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"notes.txt","contentType":"text/plain","contentBytes":"aGVsbG8="}]}}`)
	require.Equal(t, 200, r.status, string(r.body))
	id, list = attachments("Notes")
	assert.Equal(t, "#microsoft.graph.fileAttachment", list[0]["@odata.type"])
	assert.Equal(t, "hello", string(value(id, list[0]).body))
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestHTMLToText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>Hello&nbsp;there,</p><p>second  line<br>third</p>", "Hello there,\r\n\r\nsecond line\r\nthird"},
		{`<div>See <a href="https://contoso.com/x">the doc</a>.</div>`, "See the doc<https://contoso.com/x>."},
		{"<ul><li>one</li><li>two</li></ul>", "- one\r\n- two"},
		{"<ol><li>one</li><li>two</li></ol><p>after</p>", "1. one\r\n2. two\r\n\r\nafter"},
		{"<html><head><style>p{color:red}</style></head><body><b>A</b> &amp; B</body></html>", "A & B"},
		{"<div>x</div><div>&nbsp;</div><div>y</div>", "x\r\n\r\ny"},
		{"a<hr>b", "a\r\n________________________________\r\nb"},
	} {
		assert.Equal(t, tc.want, htmlToText(tc.in), tc.in)
	}
}

func TestCalendarView(t *testing.T) {
	s := newSim(t)
	view := func(query string, headers ...string) response {
		return get(s, "/v1.0/me/calendarView"+query, headers...)
	}
	week := q("startDateTime", "2026-11-23T00:00:00Z", "endDateTime", "2026-11-28T00:00:00Z", "$top", "100")
	r := view(week)
	require.Equal(t, 200, r.status, string(r.body))
	list := r.values(t)
	count := map[string]int{}
	ids := map[string]bool{}
	for i, e := range list {
		count[e["subject"].(string)]++
		assert.False(t, ids[e["id"].(string)], "occurrences have their own ids")
		ids[e["id"].(string)] = true
		assert.NotEqual(t, "seriesMaster", e["type"], "a view lists occurrences, not masters")
		if i > 0 {
			assert.LessOrEqual(t, list[i-1]["start"].(map[string]any)["dateTime"], e["start"].(map[string]any)["dateTime"])
		}
	}
	assert.Equal(t, 5, count["Atlas daily stand-up"], "weekdays only")
	assert.Equal(t, 1, count["Priya / Daniel 1:1"], "weekly")
	assert.Equal(t, 1, count["Canceled: Budget sync"])
	assert.Zero(t, count["Atlas GA launch"], "another calendar")

	var standup map[string]any
	for _, e := range list {
		if e["subject"] == "Atlas daily stand-up" {
			standup = e
			break
		}
	}
	assert.Equal(t, "occurrence", standup["type"])
	assert.NotEmpty(t, standup["seriesMasterId"])
	assert.Nil(t, standup["recurrence"])
	assert.Equal(t, map[string]any{"dateTime": "2026-11-23T09:30:00.0000000", "timeZone": "UTC"}, standup["start"])
	assert.Equal(t, "accepted", standup["responseStatus"].(map[string]any)["response"])
	assert.Contains(t, standup["onlineMeeting"].(map[string]any)["joinUrl"], "https://teams.microsoft.com/l/meetup-join/")

	// The occurrence and its master can be read by id, in either form.
	occ := get(s, "/v1.0/me/events/"+standup["id"].(string)).json(t)
	assert.Equal(t, standup["start"], occ["start"])
	immOcc := get(s, "/v1.0/me/events/"+standup["id"].(string), "Nango-Proxy-Prefer", `IdType="ImmutableId"`).json(t)
	assert.NotEqual(t, standup["id"], immOcc["id"])
	assert.Equal(t, standup["start"], get(s, "/v1.0/me/events/"+immOcc["id"].(string)).json(t)["start"])
	master := get(s, "/v1.0/me/events/"+standup["seriesMasterId"].(string)).json(t)
	assert.Equal(t, "seriesMaster", master["type"])
	pattern := master["recurrence"].(map[string]any)["pattern"].(map[string]any)
	assert.Equal(t, "weekly", pattern["type"])
	assert.Len(t, pattern["daysOfWeek"], 5)

	// Time zones: Windows and IANA names, echoed as given.
	for _, tc := range []struct{ zone, start string }{
		{"Pacific Standard Time", "2026-11-26T08:00:00.0000000"},
		{"India Standard Time", "2026-11-26T21:30:00.0000000"},
		{"Europe/Berlin", "2026-11-26T17:00:00.0000000"},
		{"UTC", "2026-11-26T16:00:00.0000000"},
	} {
		r := view(q("startDateTime", "2026-11-26T00:00:00Z", "endDateTime", "2026-11-27T00:00:00Z", "$filter", "subject eq 'Q4 roadmap review'"),
			"Nango-Proxy-Prefer", fmt.Sprintf("outlook.timezone=%q", tc.zone))
		require.Equal(t, 200, r.status, string(r.body))
		list := r.values(t)
		require.Len(t, list, 1, tc.zone)
		assert.Equal(t, map[string]any{"dateTime": tc.start, "timeZone": tc.zone}, list[0]["start"])
		assert.Equal(t, fmt.Sprintf("outlook.timezone=%q", tc.zone), r.header.Get("Preference-Applied"))
	}
	r = view(week, "Nango-Proxy-Prefer", `outlook.timezone="Mars/Olympus"`)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "TimeZoneNotSupportedException", r.code(t))
	assert.Contains(t, r.message(t), "'Mars/Olympus'")

	// The window's offset is honoured; no offset means UTC.
	r = view(q("startDateTime", "2026-11-26T08:00:00-08:00", "endDateTime", "2026-11-26T09:00:00-08:00"))
	require.Len(t, r.values(t), 1)
	assert.Equal(t, "Q4 roadmap review", r.values(t)[0]["subject"])
	assert.Len(t, view(q("startDateTime", "2026-11-26T16:00:00", "endDateTime", "2026-11-26T16:30:00")).values(t), 1)

	// All-day events float: midnight to midnight in the zone asked for.
	r = view(q("startDateTime", "2026-12-02T00:00:00Z", "endDateTime", "2026-12-03T00:00:00Z", "$filter", "isAllDay eq true"),
		"Nango-Proxy-Prefer", `outlook.timezone="Tokyo Standard Time"`)
	allDay := r.values(t)
	require.Len(t, allDay, 1, string(r.body))
	assert.Equal(t, "2026-12-02T00:00:00.0000000", allDay[0]["start"].(map[string]any)["dateTime"])
	assert.Equal(t, "2026-12-04T00:00:00.0000000", allDay[0]["end"].(map[string]any)["dateTime"])

	// A daily series with a numbered range; another calendar by id.
	r = view(q("startDateTime", "2026-12-01T00:00:00Z", "endDateTime", "2026-12-31T00:00:00Z", "$filter", "subject eq 'Launch war room'", "$top", "50"))
	assert.Len(t, r.values(t), 5)
	team := s.box.calendars[1].id
	r = get(s, "/v1.0/me/calendars/"+team+"/calendarView"+q("startDateTime", "2026-11-01", "endDateTime", "2026-12-31"))
	assert.Len(t, r.values(t), 3)

	// Errors.
	r = view(q("startDateTime", "2026-11-23T00:00:00Z"))
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "ErrorInvalidParameter", r.code(t))
	assert.Contains(t, r.message(t), "StartDateTime and EndDateTime")
	assert.Equal(t, "ErrorInvalidParameter", view(q("startDateTime", "monday", "endDateTime", "2026-11-28")).code(t))
	assert.Equal(t, 404, get(s, "/v1.0/me/calendars/x%2F..%2F..%2Fevents/calendarView"+week).status)

	// Paging with nextLink keeps the window.
	r = view(q("startDateTime", "2026-11-16", "endDateTime", "2026-12-13", "$top", "3", "$orderby", "start/dateTime"))
	next := r.json(t)["@odata.nextLink"].(string)
	assert.Contains(t, next, "startDateTime=2026-11-16")
	assert.Contains(t, next, "$skip=3")
	assert.Len(t, get(s, strings.TrimPrefix(next, "https://graph.microsoft.com")).values(t), 3)
}

func TestContactsPeopleAndDirectory(t *testing.T) {
	s := newSim(t)
	names := func(r response, prop string) []string {
		var out []string
		for _, v := range r.values(t) {
			out = append(out, v[prop].(string))
		}
		return out
	}

	r := get(s, "/v1.0/me/contacts"+q("$filter", "emailAddresses/any(a:a/address eq 'ELENA.PETROVA@fabrikam.com')"))
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, []string{"Elena Petrova"}, names(r, "displayName"))
	r = get(s, "/v1.0/me/contacts"+q("$filter", "startswith(surname,'o''b') or startswith(companyName,'fab')", "$select", "displayName"))
	assert.ElementsMatch(t, []string{"Daniel O'Brien", "Elena Petrova", "Tom Whitaker"}, names(r, "displayName"))
	assert.ElementsMatch(t, []string{"@odata.etag", "id", "displayName"}, keys(r.values(t)[0]))
	r = get(s, "/v1.0/me/contacts"+q("$filter", "contains(displayName,'a')"))
	assert.Equal(t, "ErrorInvalidUrlQueryFilter", r.code(t))
	r = get(s, "/v1.0/me/contacts?$top=5")
	assert.Len(t, r.values(t), 5)
	assert.Contains(t, r.json(t)["@odata.nextLink"], "$skip=5")

	r = get(s, "/v1.0/me/people"+q("$search", `"ann"`))
	assert.Equal(t, []string{"Ann Fischer", "Annika Johansson"}, names(r, "displayName"), "in rank order")
	p := r.values(t)[0]
	assert.Equal(t, map[string]any{"class": "Person", "subclass": "OrganizationUser"}, p["personType"])
	assert.Equal(t, "ann.fischer@contoso.com", p["scoredEmailAddresses"].([]any)[0].(map[string]any)["address"])
	assert.Equal(t, []string{"Elena Petrova"}, names(get(s, "/v1.0/me/people"+q("$search", `"petrova"`)), "displayName"))
	assert.Equal(t, []string{"Daniel O'Brien"}, names(get(s, "/v1.0/me/people"+q("$search", `"dan o'b"`)), "displayName"))

	dir := "/v1.0/users" + q("$search", `"displayName:ann" OR "mail:ann"`, "$select", "displayName,mail,department", "$count", "true")
	r = get(s, dir)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "Request_UnsupportedQuery", r.code(t))
	assert.Contains(t, r.message(t), "ConsistencyLevel: eventual")
	r = get(s, dir, "Nango-Proxy-ConsistencyLevel", "eventual")
	require.Equal(t, 200, r.status, string(r.body))
	assert.ElementsMatch(t, []string{"Ann Fischer", "Annika Johansson"}, names(r, "displayName"))
	assert.EqualValues(t, 2, r.json(t)["@odata.count"])
	assert.Equal(t, "Legal", r.values(t)[0]["department"])
	r = get(s, "/v1.0/users"+q("$search", `"mail:obrien"`), "Nango-Proxy-ConsistencyLevel", "eventual")
	assert.Equal(t, []string{"Daniel O'Brien"}, names(r, "displayName"))
	r = get(s, "/v1.0/users"+q("$search", `"ann"`), "Nango-Proxy-ConsistencyLevel", "eventual")
	assert.Equal(t, 400, r.status)

	// The directory pages with an opaque $skiptoken, 999 at most.
	r = get(s, "/v1.0/users?$top=4")
	assert.NotContains(t, r.values(t)[0], "department", "not in the default property set")
	next := r.json(t)["@odata.nextLink"].(string)
	assert.Contains(t, next, "$skiptoken=")
	assert.Len(t, get(s, strings.TrimPrefix(next, "https://graph.microsoft.com")).values(t), 4)
	assert.Equal(t, "Request_UnsupportedQuery", get(s, "/v1.0/users?$top=1000").code(t))
	assert.Equal(t, 400, get(s, "/v1.0/users?$skip=4").status)
	assert.Equal(t, "Daniel O'Brien", get(s, "/v1.0/users/daniel.obrien@contoso.com").json(t)["displayName"])
	assert.Equal(t, "Request_ResourceNotFound", get(s, "/v1.0/users/nobody@contoso.com").code(t))

	me := get(s, "/v1.0/me?$select=displayName,mail").json(t)
	assert.Equal(t, "priya.raman@contoso.com", me["mail"])
	assert.ElementsMatch(t, []string{"@odata.context", "id", "displayName", "mail"}, keys(me))

	s = newSim(t, func(o *Options) { o.PersonalAccount = true })
	r = get(s, "/v1.0/users"+q("$search", `"displayName:ann"`), "Nango-Proxy-ConsistencyLevel", "eventual")
	assert.Equal(t, 400, r.status)
	me = get(s, "/v1.0/me").json(t)
	assert.Nil(t, me["mail"], "no mail on a personal account: fall back to userPrincipalName")
	assert.Equal(t, "priya.raman@contoso.com", me["userPrincipalName"])
	assert.Equal(t, 200, get(s, "/v1.0/me/people"+q("$search", `"ann"`)).status)
}

func TestUnknownEndpoints(t *testing.T) {
	s := newSim(t)
	r := get(s, "/v1.0/me/foo")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "BadRequest", r.code(t))
	assert.Equal(t, "Resource not found for the segment 'foo'.", r.message(t))
	assert.Equal(t, 400, get(s, "/v2.0/me").status)
	r = proxy(s, "DELETE", "/v1.0/me/messages", "")
	assert.Equal(t, 405, r.status)
	r = serve(s, "GET", "/integrations", "", authHeaders[:2]...)
	assert.Equal(t, 404, r.status)
	assert.Equal(t, "not_found", r.code(t))
}

func TestFaults(t *testing.T) {
	s := newSim(t)
	s.Inject(Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 429, RetryAfter: "7", Times: 2})
	assert.Equal(t, 200, get(s, "/v1.0/me").status, "another path")
	for range 2 {
		r := get(s, "/v1.0/me/messages?$top=1")
		assert.Equal(t, 429, r.status)
		assert.Equal(t, "ApplicationThrottled", r.code(t))
		assert.Equal(t, "7", r.header.Get("Retry-After"))
		assert.NotEmpty(t, r.header.Get("request-id"))
	}
	assert.Equal(t, 200, get(s, "/v1.0/me/messages?$top=1").status, "consumed")

	s.Inject(Fault{Status: 503})
	s.Inject(Fault{Status: 500, Code: "ErrorInternalServerTransientError"})
	assert.Equal(t, "ServiceUnavailable", get(s, "/v1.0/me").code(t), "in order")
	assert.Equal(t, "ErrorInternalServerTransientError", get(s, "/v1.0/me").code(t))

	// The send happened, then the answer failed.
	send := `{"message":{"subject":"Once","toRecipients":[{"emailAddress":{"address":"ann.fischer@contoso.com"}}]}}`
	s.Inject(Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 504, AfterEffect: true})
	r := proxy(s, "POST", "/v1.0/me/sendMail", send)
	assert.Equal(t, 504, r.status)
	assert.Len(t, s.Sent(), 1, "the effect happened")

	// A throttled send did not happen.
	s.Inject(Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 429})
	assert.Equal(t, 429, proxy(s, "POST", "/v1.0/me/sendMail", send).status)
	assert.Len(t, s.Sent(), 1)

	// Nango's own rate limit.
	s.Inject(Fault{NangoRateLimit: true, RetryAfter: "3"})
	r = get(s, "/v1.0/me")
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "too_many_request", r.code(t))
	assert.Equal(t, "3", r.header.Get("Retry-After"))
	assert.Empty(t, r.header.Get("request-id"), "Graph was never called")

	// Asking Nango to retry a send after a 5xx sends it twice.
	s.Inject(Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 503, AfterEffect: true})
	r = proxy(s, "POST", "/v1.0/me/sendMail", send, "Retries", "1")
	assert.Equal(t, 200, r.status)
	assert.Len(t, s.Sent(), 3)
}

func TestLatencyAndConcurrency(t *testing.T) {
	s := newSim(t, func(o *Options) { o.Latency = 30 * time.Millisecond })
	client := s.Client()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "https://nango.invalid/proxy/v1.0/me/messages?$top=2&$skip="+fmt.Sprint(i), nil)
			for j := 0; j+1 < len(authHeaders); j += 2 {
				req.Header.Set(authHeaders[j], authHeaders[j+1])
			}
			resp, err := client.Do(req)
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, 200, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	assert.Less(t, time.Since(start), 8*30*time.Millisecond, "requests overlap")
	assert.Equal(t, 8, s.MaxInFlight())
	assert.Len(t, s.Requests(), 8)

	// A caller that gives up is not kept waiting.
	slow := newSim(t, func(o *Options) { o.Latency = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://nango.invalid/proxy/v1.0/me", nil)
	for j := 0; j+1 < len(authHeaders); j += 2 {
		req.Header.Set(authHeaders[j], authHeaders[j+1])
	}
	_, err := slow.Client().Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestHammer mixes reads, sends and hooks in parallel: run with -race.
func TestHammer(t *testing.T) {
	s := newSim(t)
	paths := []string{
		"/v1.0/me/messages?$top=5&$select=subject",
		"/v1.0/me/mailFolders/inbox/messages" + q("$search", `"budget OR lunch"`),
		"/v1.0/me/calendarView" + q("startDateTime", "2026-11-23", "endDateTime", "2026-12-07"),
		"/v1.0/me/contacts",
		"/v1.0/me/people" + q("$search", `"a"`),
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 7 {
			case 0:
				r := proxy(s, "POST", "/v1.0/me/sendMail", `{"message":{"subject":"hi","toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}]}}`)
				assert.Equal(t, 200, r.status)
			case 1:
				s.Inject(Fault{Path: "/v1.0/nowhere", Status: 503})
				s.SetScopes(DefaultScopes...)
				_ = s.Requests()
				_ = s.Sent()
			default:
				r := get(s, paths[i%len(paths)])
				assert.Equal(t, 200, r.status, string(r.body))
			}
		}()
	}
	wg.Wait()
	assert.Len(t, s.Sent(), 6)
}

func BenchmarkNew(b *testing.B) {
	newSim(b)
	for b.Loop() {
		if _, err := New(fixtureData, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAddMessageAtRunTime(t *testing.T) {
	s := newSim(t)
	msg := `{"id": "AAMkAGRlbW8tYWRkZWQtbWVzc2FnZQ=", "folder": "inbox", "receivedDateTime": "-5m", "from": "Mallory <mallory@example.net>",
		"subject": "Invoice", "body": "<p>see attached</p>",
		"attachments": [{"name": "invoice.pdf", "contentType": "application/pdf", "contentBytes": "JVBERi0xLjcK"}]}`
	require.NoError(t, s.AddMessage([]byte(msg)))
	m := s.messageBySubject(t, "Invoice")
	assert.WithinDuration(t, testNow.Add(-5*time.Minute), m.received, time.Minute, "times are relative to now")
	r := get(s, "/v1.0/me/messages/"+m.id+"/attachments/"+m.attachments[0].id+"/$value")
	require.Equal(t, 200, r.status)
	assert.Equal(t, "%PDF-1.7\n", string(r.body))

	assert.ErrorContains(t, s.AddMessage([]byte(msg)), "already used")
	assert.ErrorContains(t, s.AddMessage([]byte(`{"id": "AAMkAGRlbW8tYWRkZWQtbWVzc2FnZTI=", "folder": "nowhere"}`)), `unknown folder "nowhere"`)
	assert.ErrorContains(t, s.AddMessage([]byte(`{"id": "AAMkAGRlbW8tYWRkZWQtbWVzc2FnZTM=", "bogus": 1}`)), "bogus")
}
