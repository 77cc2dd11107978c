package nango

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoRequestShape(t *testing.T) {
	f := newFakeNango(t, reply(200, `{"value":[]}`))
	c := newClient(t, f.srv.URL)

	err := c.Connection("conn-1").Do(context.Background(), Request{
		Method: http.MethodGet,
		Path:   "/me/mailFolders/inbox/messages",
		Query:  url.Values{"$top": {"10"}, "$select": {"id,subject"}},
		Header: http.Header{
			"Prefer":           {`outlook.body-content-type="text"`, `IdType="ImmutableId"`},
			"ConsistencyLevel": {"eventual"},
		},
	}, nil)
	require.NoError(t, err)

	r := f.only(t)
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/proxy/v1.0/me/mailFolders/inbox/messages?$select=id%2Csubject&$top=10", r.RequestURI)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	assert.Equal(t, testIntegration, r.Header.Get("Provider-Config-Key"))
	assert.Equal(t, "conn-1", r.Header.Get("Connection-Id"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))

	// Graph headers travel only under Nango's forwarding prefix.
	assert.Equal(t, []string{`outlook.body-content-type="text"`, `IdType="ImmutableId"`}, r.Header.Values("Nango-Proxy-Prefer"))
	assert.Equal(t, "eventual", r.Header.Get("Nango-Proxy-Consistencylevel"))
	assert.Empty(t, r.Header.Values("Prefer"), "a bare Prefer would be dropped by Nango")
	assert.Empty(t, r.Header.Values("Consistencylevel"), "a bare ConsistencyLevel would be dropped by Nango")

	// A GET has no body and no Content-Type; Nango's own retries stay off.
	assert.Empty(t, r.Body)
	assert.Empty(t, r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Get("Retries"))
}

func TestDoGraphHeaderNamesAreCanonicalised(t *testing.T) {
	tests := []struct{ given, want string }{
		{"Prefer", "Nango-Proxy-Prefer"},
		{"prefer", "Nango-Proxy-Prefer"},
		{"PREFER", "Nango-Proxy-Prefer"},
		{"ConsistencyLevel", "Nango-Proxy-Consistencylevel"},
		{"consistencylevel", "Nango-Proxy-Consistencylevel"},
	}
	for _, tc := range tests {
		t.Run(tc.given, func(t *testing.T) {
			f := newFakeNango(t, reply(200, `{}`))
			c := newClient(t, f.srv.URL)
			// A raw map literal keeps the non-canonical spelling.
			h := http.Header{tc.given: {"v"}}
			require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: "/me", Header: h}, nil))
			r := f.only(t)
			assert.Equal(t, []string{"v"}, r.Header.Values(tc.want))
			for name := range r.Header {
				if name == tc.want {
					continue
				}
				assert.False(t, strings.HasPrefix(name, "Nango-Proxy-"), "unexpected forwarded header %s", name)
				assert.NotEqual(t, http.CanonicalHeaderKey(tc.given), name, "the Graph header was sent without the prefix")
			}
		})
	}
}

func TestDoSendsJSONBody(t *testing.T) {
	f := newFakeNango(t, reply(200, "", "Content-Type", "application/octet-stream"))
	c := newClient(t, f.srv.URL)
	type addr struct {
		Address string `json:"address"`
	}
	body := map[string]any{
		"message": map[string]any{
			"subject":      `Budget "Q3" & ${x} <ok>`,
			"toRecipients": []any{map[string]any{"emailAddress": addr{"alice@contoso.com"}}},
		},
		"saveToSentItems": true,
	}
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodPost, Path: "/me/sendMail", Body: body}, nil))

	r := f.only(t)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/proxy/v1.0/me/sendMail", r.RequestURI)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Empty(t, r.Header.Get("Nango-Proxy-Content-Type"), "Content-Type is sent plain, Nango parses the body")
	assert.JSONEq(t, `{"message":{"subject":"Budget \"Q3\" & ${x} <ok>","toRecipients":[{"emailAddress":{"address":"alice@contoso.com"}}]},"saveToSentItems":true}`, string(r.Body))
}

func TestDoRejectsUnencodableBodyWithoutRequest(t *testing.T) {
	f := newFakeNango(t)
	c := newClient(t, f.srv.URL)
	err := c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodPost, Path: "/me/sendMail", Body: map[string]any{"x": make(chan int)}}, nil)
	require.Error(t, err)
	assert.Zero(t, f.count())
}

func TestEncodeQuery(t *testing.T) {
	tests := []struct {
		name  string
		query url.Values
		want  string
	}{
		{"nil", nil, ""},
		{"empty", url.Values{}, ""},
		{"dollar key kept literal", url.Values{"$top": {"10"}}, "$top=10"},
		{"comma list", url.Values{"$select": {"id,subject,from"}}, "$select=id%2Csubject%2Cfrom"},
		{"spaces are %20", url.Values{"$filter": {"isRead eq false"}}, "$filter=isRead%20eq%20false"},
		{"quoted KQL", url.Values{"$search": {`"from:alice subject:budget"`}}, "$search=%22from%3Aalice%20subject%3Abudget%22"},
		{"doubled quote in a literal", url.Values{"$filter": {"from/emailAddress/address eq 'o''brien@x.com'"}},
			"$filter=from%2FemailAddress%2Faddress%20eq%20%27o%27%27brien%40x.com%27"},
		{"plus in a time offset stays a plus", url.Values{"startDateTime": {"2026-01-01T00:00:00+01:00"}},
			"startDateTime=2026-01-01T00%3A00%3A00%2B01%3A00"},
		{"sorted keys", url.Values{"b": {"2"}, "a": {"1"}, "$top": {"3"}}, "$top=3&a=1&b=2"},
		{"repeated values keep their order", url.Values{"a": {"2", "1"}}, "a=2&a=1"},
		{"interpolation in a value", url.Values{"$search": {"${connectionConfig.tenant}"}}, "$search=%24%7BconnectionConfig.tenant%7D"},
		{"interpolation in a key", url.Values{"${x}": {"1"}, "$${y}": {"2"}}, "$%24%7By%7D=2&$%7Bx%7D=1"},
		{"separators in a value", url.Values{"q": {"a&b=c#d;e?f"}}, "q=a%26b%3Dc%23d%3Be%3Ff"},
		{"unicode", url.Values{"q": {"café"}}, "q=caf%C3%A9"},
		{"unreserved untouched", url.Values{"q": {"a-b_c.d~e"}}, "q=a-b_c.d~e"},
		{"empty value", url.Values{"q": {""}}, "q="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, EncodeQuery(tc.query))
		})
	}
}

func TestDoUserTextCannotChangeTheQuery(t *testing.T) {
	hostile := []string{
		`it's`,
		`a & b`,
		`x&$top=1000`,
		`#fragment`,
		`say "hi"`,
		`${connectionConfig.secret}`,
		`$${x}`,
		`50% + 50%`,
		"tab\tnew\nline",
		`a=b`,
		`semi;colon`,
	}
	for _, v := range hostile {
		t.Run(v, func(t *testing.T) {
			f := newFakeNango(t, reply(200, `{}`))
			c := newClient(t, f.srv.URL)
			q := url.Values{"$search": {`"` + v + `"`}, "$select": {"id"}}
			require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: "/me/messages", Query: q}, nil))

			r := f.only(t)
			path, raw, found := strings.Cut(r.RequestURI, "?")
			require.True(t, found)
			assert.Equal(t, "/proxy/v1.0/me/messages", path)
			assert.NotContains(t, r.RequestURI, "${", "Nango would interpolate a literal ${")
			assert.NotContains(t, raw, "#")
			assert.NotContains(t, raw, "+", "spaces must be %20")
			assert.NotContains(t, raw, " ")
			assert.True(t, strings.HasPrefix(raw, "$search=") && strings.Contains(raw, "&$select=id"), "keys keep their literal $: %s", raw)

			parsed, err := url.ParseQuery(raw)
			require.NoError(t, err)
			assert.Equal(t, url.Values{"$search": {`"` + v + `"`}, "$select": {"id"}}, parsed, "the query means exactly what was asked")
		})
	}
}

func TestDoPathIsSentAsGiven(t *testing.T) {
	f := newFakeNango(t, reply(200, `{}`))
	c := newClient(t, f.srv.URL)
	id := "AAMkAD/+=x y"
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: "/me/messages/" + url.PathEscape(id) + "/attachments"}, nil))
	assert.Equal(t, "/proxy/v1.0/me/messages/AAMkAD%2F+=x%20y/attachments", f.only(t).RequestURI)
}

func TestDoFollowsNextLinkVerbatim(t *testing.T) {
	tests := []struct {
		name    string
		link    string
		query   url.Values
		wantURI string
	}{
		{"skip", "https://graph.microsoft.com/v1.0/me/messages?$skip=10&$select=id,subject",
			nil, "/proxy/v1.0/me/messages?$skip=10&$select=id,subject"},
		{"encoded keys and token", "https://graph.microsoft.com/v1.0/me/messages?%24select=id&%24skiptoken=MSZZVlhK%3D%3D",
			nil, "/proxy/v1.0/me/messages?%24select=id&%24skiptoken=MSZZVlhK%3D%3D"},
		{"escaped path segment", "https://graph.microsoft.com/v1.0/users('a%40b.com')/messages?$skip=20",
			nil, "/proxy/v1.0/users('a%40b.com')/messages?$skip=20"},
		{"calendar view", "https://graph.microsoft.com/v1.0/me/calendarView?startDateTime=2026-01-01T00%3A00%3A00Z&endDateTime=2026-02-01T00%3A00%3A00Z&$skip=10",
			nil, "/proxy/v1.0/me/calendarView?startDateTime=2026-01-01T00%3A00%3A00Z&endDateTime=2026-02-01T00%3A00%3A00Z&$skip=10"},
		{"extra query appended with &", "https://graph.microsoft.com/v1.0/me/messages?$skip=10",
			url.Values{"$top": {"5"}}, "/proxy/v1.0/me/messages?$skip=10&$top=5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, reply(200, `{}`))
			c := newClient(t, f.srv.URL)
			require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: tc.link, Query: tc.query}, nil))
			assert.Equal(t, tc.wantURI, f.only(t).RequestURI)
		})
	}
}

func TestDoRefusesLinksOutsideGraphWithoutRequest(t *testing.T) {
	links := []string{
		"https://evil.example.com/v1.0/me/messages?$skip=10",
		"http://graph.microsoft.com/v1.0/me/messages",
		"https://graph.microsoft.com.evil.example.com/v1.0/me/messages",
		"https://graph.microsoft.com@evil.example.com/v1.0/me/messages",
		"https://graph.microsoft.com:8443/v1.0/me/messages",
		"https://graph.microsoft.com/beta/me/messages",
		"https://login.microsoftonline.com/common/oauth2/v2.0/token",
		"https://outlook.office.com/api/v2.0/me/messages",
	}
	f := newFakeNango(t, reply(200, `{}`))
	c := newClient(t, f.srv.URL)
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			err := c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: link}, nil)
			e := requireNangoError(t, err)
			assertKind(t, KindBadRequest, e)
		})
	}
	assert.Zero(t, f.count(), "no request may leave for a refused link")
}

func TestDoSuccessStatuses(t *testing.T) {
	type msg struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    msg // what out holds afterwards; it starts as {"keep", "me"}
	}{
		{"200 json", reply(200, `{"id":"m1","subject":"hi"}`), msg{"m1", "hi"}},
		{"201 json", reply(201, `{"id":"m2","subject":"new"}`), msg{"m2", "new"}},
		{"200 empty octet-stream (Graph's 202 via Nango)", reply(200, "", "Content-Type", "application/octet-stream"), msg{"keep", "me"}},
		{"200 empty octet-stream with whitespace", reply(200, " \r\n", "Content-Type", "application/octet-stream"), msg{"keep", "me"}},
		{"202 empty", reply(202, ""), msg{"keep", "me"}},
		{"204 no content", reply(204, ""), msg{"keep", "me"}},
		{"299", reply(299, ""), msg{"keep", "me"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNango(t, tc.handler)
			c := newClient(t, f.srv.URL)
			out := msg{"keep", "me"}
			require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodPost, Path: "/me/sendMail", Body: map[string]any{}}, &out))
			assert.Equal(t, tc.want, out)
			assert.Equal(t, 1, f.count())
		})
	}
}

func TestDoNilOutIgnoresBody(t *testing.T) {
	f := newFakeNango(t, reply(200, `not json at all`))
	c := newClient(t, f.srv.URL)
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: "/me"}, nil))
}

func TestDoUndecodableSuccessIsAnError(t *testing.T) {
	f := newFakeNango(t, reply(200, `<html>oops</html>`, "Content-Type", "text/html"))
	c := newClient(t, f.srv.URL)
	var out map[string]any
	err := c.Connection("conn-1").Do(context.Background(), Request{Method: http.MethodGet, Path: "/me"}, &out)
	e := requireNangoError(t, err)
	assertKind(t, KindOther, e)
	assert.Equal(t, 1, f.count(), "a decoding failure is not retried")
}

func TestDoLogsNeitherQueryNorKey(t *testing.T) {
	f := newFakeNango(t, reply(404, errBody("ErrorItemNotFound", "The specified object was not found in the store.")))
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, f.srv.URL, func(c *Config) { c.Logger = logger })
	err := c.Connection("conn-1").Do(context.Background(), Request{
		Method: http.MethodGet, Path: "/me/messages", Query: url.Values{"$search": {`"from:confidential-person"`}},
	}, nil)
	require.Error(t, err)
	logs := buf.String()
	assert.Contains(t, logs, "/proxy/v1.0/me/messages", "the call is logged")
	assert.NotContains(t, logs, "confidential-person", "queries carry user text")
	assert.NotContains(t, logs, testKey)
}

func TestDoHandsRawBytesToAByteSlice(t *testing.T) {
	body := "%PDF-1.4\n\x00\xff\xfe binary\r\n"
	f := newFakeNango(t, reply(200, body, "Content-Type", "application/pdf"))
	c := newClient(t, f.srv.URL)

	var got []byte
	require.NoError(t, c.Connection("conn-1").Do(context.Background(), Request{Path: "/me/messages/m1/attachments/a1/$value"}, &got))
	assert.Equal(t, []byte(body), got, "bytes pass through undecoded")
	assert.Equal(t, "/proxy/v1.0/me/messages/m1/attachments/a1/$value", f.only(t).RequestURI)
}
