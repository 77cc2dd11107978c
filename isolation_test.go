package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
	"github.com/outlook-mcp/outlook-mcp/transport"
)

// The isolation test: one server in nango mode, many users calling at once
// over streamable HTTP and SSE with two client libraries. Each user's
// mailbox differs (their name in every subject, their own profile) and so
// do their granted scopes. Every answer must be the caller's own.

const serviceTokenForTests = "svc-token-0123456789abcdef0123456789"

// grants are the scope sets users are given in turn, with the tools each
// set must refuse for want of a scope.
var grants = []struct {
	scopes  []string
	refused map[string]bool
}{
	{sim.DefaultScopes, map[string]bool{}},
	{[]string{"User.Read", "Mail.ReadBasic", "Calendars.ReadBasic", "offline_access"}, map[string]bool{"get_message": true, "find_contacts": true}},
	{[]string{"User.Read", "Mail.Read", "Contacts.Read", "offline_access"}, map[string]bool{"list_events": true}},
}

type isolationUser struct {
	sim.User
	grant int
	kind  string // mcp-go/http, mcp-go/sse, go-sdk/http, go-sdk/sse
	key   string // the bearer key the user's backend sends
}

func isolationUsers(n int) []isolationUser {
	kinds := []string{"mcp-go/http", "mcp-go/sse", "go-sdk/http", "go-sdk/sse"}
	out := make([]isolationUser, n)
	for i := range out {
		g := i % len(grants)
		key := sim.DefaultSecretKey
		if i%2 == 1 {
			key = serviceTokenForTests
		}
		out[i] = isolationUser{
			User:  sim.User{ConnectionID: fmt.Sprintf("conn-%03d", i), Name: fmt.Sprintf("Person %03d", i), Scopes: grants[g].scopes},
			grant: g, kind: kinds[i%len(kinds)], key: key,
		}
	}
	return out
}

func startNangoMode(t *testing.T, users []isolationUser, hide bool) *httpServer {
	t.Helper()
	simUsers := make([]sim.User, len(users))
	for i, u := range users {
		simUsers[i] = u.User
	}
	auth, err := transport.NangoAuth(transport.NangoAuthConfig{SecretKey: sim.DefaultSecretKey, Integration: "outlook",
		Tokens: []transport.ServiceToken{{Token: serviceTokenForTests, Label: "agent-platform"}}})
	require.NoError(t, err)
	return startHTTPServerWith(t, setup{
		sim:    func(o *sim.Options) { o.Users = simUsers },
		server: func(o *options) { o.auth, o.hide = "nango", hide },
	}, transport.HTTPConfig{Auth: auth})
}

func (u isolationUser) connect(t *testing.T, base string) mcpClient {
	clientName, kind, _ := strings.Cut(u.kind, "/")
	return connectHTTPWith(t, kind, clientName, base, map[string]string{
		"Authorization": "Bearer " + u.key,
		"connection-id": u.ConnectionID,
	})
}

var (
	personMarker = regexp.MustCompile(`Person \d{3}|person\.\d{3}@`)
	connMarker   = regexp.MustCompile(`conn-\d{3}`)
)

func TestIsolationManyUsersAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("the isolation test makes 1,200 calls")
	}
	const nUsers, callsPerUser, workersPerUser = 60, 20, 2
	users := isolationUsers(nUsers)
	srv := startNangoMode(t, users, false)

	var calls, crossUser, wrongScope, failures atomic.Int64
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, u := range users {
		c := u.connect(t, srv.base)
		own := map[string]bool{u.Name: true, "person." + u.Name[len("Person "):] + "@": true}
		// check: every marker of a person or connection in the answer is
		// the caller's own, and the scope decision is the caller's grant.
		check := func(tool string, res *toolResult) {
			calls.Add(1)
			for _, m := range personMarker.FindAllString(res.text, -1) {
				if !own[m] {
					crossUser.Add(1)
					report("%s got %q in %s: %.200s", u.ConnectionID, m, tool, res.text)
				}
			}
			for _, m := range connMarker.FindAllString(res.text, -1) {
				if m != u.ConnectionID {
					crossUser.Add(1)
					report("%s got %q in %s", u.ConnectionID, m, tool)
				}
			}
			missing := res.isError && regexpMissing.MatchString(res.text)
			if missing != grants[u.grant].refused[tool] {
				wrongScope.Add(1)
				report("%s (grant %d) %s: missing-scope error %v: %.300s", u.ConnectionID, u.grant, tool, missing, res.text)
			}
			if res.isError && !missing {
				failures.Add(1)
				report("%s %s failed: %.300s", u.ConnectionID, tool, res.text)
			}
		}
		for w := range workersPerUser {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				var messageID string
				for i := range callsPerUser / workersPerUser {
					var tool string
					var args map[string]any
					switch (i + w) % 5 {
					case 0:
						tool, args = "get_profile", nil
					case 1:
						tool, args = "search_mail", map[string]any{"limit": 5}
					case 2:
						tool, args = "list_events", map[string]any{"start": testNow.AddDate(0, 0, -7).Format(time.RFC3339), "end": testNow.AddDate(0, 0, 14).Format(time.RFC3339), "limit": 10}
					case 3:
						tool, args = "get_message", map[string]any{"id": messageID}
						if messageID == "" {
							tool, args = "search_mail", map[string]any{"query": "subject:review", "limit": 3}
						}
					case 4:
						tool, args = "find_contacts", map[string]any{"query": "a"}
					}
					res, err := c.callTool(ctx, tool, args)
					if err != nil {
						failures.Add(1)
						report("%s %s: %v", u.ConnectionID, tool, err)
						continue
					}
					check(tool, res)
					if tool == "get_profile" && !res.isError {
						if res.structured["email"] != u.Email() || res.structured["connection_id"] != u.ConnectionID {
							crossUser.Add(1)
							report("%s got the profile %v <%v> of connection %v", u.ConnectionID, res.structured["name"], res.structured["email"], res.structured["connection_id"])
						}
					}
					if tool == "search_mail" && !res.isError {
						msgs, _ := res.structured["messages"].([]any)
						for _, m := range msgs {
							subject, _ := m.(map[string]any)["subject"].(string)
							if len(subject) < len(u.SubjectPrefix()) || subject[:len(u.SubjectPrefix())] != u.SubjectPrefix() {
								crossUser.Add(1)
								report("%s got a message %q", u.ConnectionID, subject)
							}
							if messageID == "" {
								messageID, _ = m.(map[string]any)["id"].(string)
							}
						}
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d users, %d calls in %s (%.0f calls/s): %d cross-user results, %d wrong scope decisions, %d other failures",
		nUsers, calls.Load(), elapsed.Round(time.Millisecond), float64(calls.Load())/elapsed.Seconds(), crossUser.Load(), wrongScope.Load(), failures.Load())
	assert.EqualValues(t, nUsers*callsPerUser, calls.Load())
	assert.Zero(t, crossUser.Load(), "cross-user results")
	assert.Zero(t, wrongScope.Load(), "scope decisions that were not the caller's")
	assert.Zero(t, failures.Load())
}

var regexpMissing = regexp.MustCompile(`needs the Microsoft Graph delegated permission`)

// --hide-unavailable, the prompts and get_profile answer each caller from
// their own grant, on one server.
func TestNangoModeListsPerCaller(t *testing.T) {
	users := isolationUsers(6)[:2] // grant 0: everything; grant 1: basic mail and calendar
	srv := startNangoMode(t, users, true)
	ctx := t.Context()
	for _, kind := range []string{"mcp-go/http", "mcp-go/sse"} {
		listed := map[string][]string{}
		prompts := map[string][]string{}
		for _, u := range users {
			u.kind = kind
			c := u.connect(t, srv.base)
			tools, err := c.listTools(ctx)
			require.NoError(t, err)
			for _, tool := range tools {
				listed[u.ConnectionID] = append(listed[u.ConnectionID], tool.name)
			}
			prompts[u.ConnectionID], _, _ = c.getPrompt(ctx, "daily_briefing", nil)
			res, err := c.callTool(ctx, "get_profile", nil)
			require.NoError(t, err)
			assert.Equal(t, u.Email(), res.structured["email"], kind)
		}
		assert.Contains(t, listed["conn-000"], "get_message", kind)
		assert.Contains(t, listed["conn-000"], "find_contacts", kind)
		assert.Contains(t, listed["conn-001"], "search_mail", kind)
		assert.NotContains(t, listed["conn-001"], "get_message", kind)
		assert.NotContains(t, listed["conn-001"], "find_contacts", kind)
		assert.Len(t, prompts["conn-000"], 5, kind)
		assert.Empty(t, prompts["conn-001"], "every prompt needs a tool conn-001 may not use (%s)", kind)
	}
}

// A connection Nango does not know is the caller's own mistake: the error
// names it and the header to fix, never the operator's variable or anyone
// else's connection.
func TestNangoModeUnknownConnectionSpeaksOfTheCallersOwn(t *testing.T) {
	users := isolationUsers(3)
	srv := startNangoMode(t, users, false)
	for _, kind := range []string{"mcp-go/http", "go-sdk/sse"} {
		stranger := isolationUser{User: sim.User{ConnectionID: "conn-999"}, kind: kind, key: serviceTokenForTests}
		c := stranger.connect(t, srv.base)
		res, err := c.callTool(t.Context(), "search_mail", nil)
		require.NoError(t, err)
		require.True(t, res.isError, kind)
		assert.Contains(t, res.text, `no connection "conn-999"`, kind)
		assert.Contains(t, res.text, "connection-id header", kind)
		assert.NotContains(t, res.text, "NANGO_CONNECTION_ID", kind)
		assert.Equal(t, []string{"conn-999"}, connMarker.FindAllString(res.text, -1), kind)
	}
}

// The built binary in nango mode, configured from the environment: the
// sandbox's key (or a service token) and connection-id open the sandbox
// connection, over streamable HTTP and SSE, and its SSE session refuses a
// post with another connection.
func TestE2ENangoModeBinary(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte(serviceTokenForTests+" e2e\n"), 0o600))
	srv := startBinary(t, []string{"OUTLOOK_MCP_AUTH=nango", "OUTLOOK_MCP_TOKENS_FILE=" + tokens}, "--sandbox")
	merge := func(a, b map[string]string) map[string]string {
		out := maps.Clone(a)
		maps.Copy(out, b)
		return out
	}
	json := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	for _, key := range []string{sim.DefaultSecretKey, serviceTokenForTests} {
		resp, body := request(t, "POST", srv.base+"/mcp", merge(json, map[string]string{"Authorization": "Bearer " + key, "connection-id": "sandbox"}), strings.NewReader(getProfileCall))
		assert.Equal(t, http.StatusOK, resp.StatusCode, body)
		assert.Contains(t, body, "priya.raman@contoso.com")
	}
	resp, body := request(t, "POST", srv.base+"/mcp", merge(json, map[string]string{"Authorization": "Bearer " + serviceTokenForTests}), strings.NewReader(getProfileCall))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, body, "connection-id")

	owner := map[string]string{"Authorization": "Bearer " + serviceTokenForTests, "connection-id": "sandbox"}
	message, events := openSSE(t, srv.base, owner)
	resp, body = request(t, "POST", message, merge(json, map[string]string{"Authorization": "Bearer " + serviceTokenForTests, "connection-id": "someone-else"}), strings.NewReader(getProfileCall))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = request(t, "POST", message, merge(json, owner), strings.NewReader(getProfileCall))
	assert.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	assert.Contains(t, readEvent(t, events, 1), "priya.raman@contoso.com")
	logs := srv.stop(t)
	assert.NotContains(t, logs, serviceTokenForTests)
	assert.NotContains(t, logs, sim.DefaultSecretKey)
}
