package tools

import (
	"context"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

func TestMissingScopeIsActionableAndMakesNoGraphCall(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.Read", "offline_access"))
	msg := h.fails("send_mail", map[string]any{"to": []string{"ann@contoso.com"}, "subject": "s", "body": "b"})

	assert.Contains(t, msg, "send_mail needs the Microsoft Graph delegated permission Mail.Send")
	assert.Contains(t, msg, "Granted now: Mail.Read, offline_access, User.Read.")
	assert.Contains(t, msg, `connection "sandbox"`)
	assert.Contains(t, msg, `integration "outlook"`)
	assert.Contains(t, msg, "Azure app registration")
	assert.Contains(t, msg, "prompt=consent")
	assert.Contains(t, msg, "https://connect.nango.dev/?session_token=")
	assert.Empty(t, h.graph("/v1.0/"), "refused before Graph")

	reconnects := h.sim.Reconnects()
	require.Len(t, reconnects, 1)
	assert.Equal(t, "offline_access", reconnects[0].Scopes[0], "no refresh token without offline_access")
	assert.ElementsMatch(t, []string{"offline_access", "Mail.Read", "User.Read", "Mail.Send"}, reconnects[0].Scopes, "keeps what was granted, adds what is missing")
	assert.Equal(t, "consent", reconnects[0].Prompt)
}

func TestMissingScopeNamesTheLeastPrivilegedScope(t *testing.T) {
	h := newHarness(t, withScopes("User.Read"))
	msg := h.fails("search_mail", nil)
	assert.Contains(t, msg, "permission Mail.ReadBasic (or any of Mail.Read, Mail.ReadWrite)")
	msg = h.fails("list_events", map[string]any{"start": "2026-11-25", "end": "2026-11-26"})
	assert.Contains(t, msg, "permission Calendars.ReadBasic")
}

func TestMissingScopeWithoutReconnectPermissionStillSaysHowToFix(t *testing.T) {
	h := newHarness(t, withScopes("User.Read"), withSim(func(o *sim.Options) { o.DenyReconnect = true }))
	msg := h.fails("get_message", map[string]any{"id": "AAMkAD"})
	assert.Contains(t, msg, "Mail.Read")
	assert.Contains(t, msg, "re-authorize the connection")
	assert.NotContains(t, msg, "session_token")
}

func TestScopesInURLFormAreNormalised(t *testing.T) {
	h := newHarness(t, withScopes("https://graph.microsoft.com/Mail.ReadBasic", "openid", "profile", "User.Read"),
		withSim(func(o *sim.Options) { o.ScopeFormat = sim.ScopesURL }))
	text := h.ok("search_mail", map[string]any{"limit": 1}, nil)
	assert.Contains(t, text, "Previews are empty: Mail.ReadBasic does not cover message text", "say why previews are missing")
	var p ProfileResult
	h.ok("get_profile", nil, &p)
	assert.Equal(t, []string{"Mail.ReadBasic", "User.Read"}, p.GrantedScopes)
}

func TestUnreadableScopesFallBackToGraphsAnswer(t *testing.T) {
	// The Nango key cannot read credentials: no pre-check, Graph decides.
	h := newHarness(t, withScopes("User.Read", "Mail.ReadBasic"), withSim(func(o *sim.Options) { o.HideCredentials = true }))
	h.ok("search_mail", map[string]any{"limit": 1}, nil)
	msg := h.fails("send_mail", map[string]any{"to": []string{"ann@contoso.com"}, "subject": "s", "body": "b"})
	assert.Contains(t, msg, "denied")
	assert.Contains(t, msg, "send_mail needs Mail.Send", "the likely fix, though Graph does not say")
	assert.Contains(t, msg, "prompt=consent")
	assert.Len(t, h.graph("/v1.0/me/sendMail"), 1)
	assert.Empty(t, h.sim.Sent())
}

func TestScopeLostSinceCachedIsRecheckedAfter403(t *testing.T) {
	h := newHarness(t)
	h.ok("search_mail", map[string]any{"limit": 1}, nil) // scopes cached
	h.sim.SetScopes("User.Read", "offline_access")       // consent revoked meanwhile
	msg := h.fails("get_message", map[string]any{"id": "AAMkAGI2TG93AAA="})
	assert.Contains(t, msg, "get_message needs the Microsoft Graph delegated permission Mail.Read")
	assert.Contains(t, msg, "Granted now: offline_access, User.Read.")
}

func TestNangoFailuresAreExplained(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  harnessOption
		want []string
	}{
		{"unknown connection", withSim(func(o *sim.Options) { o.ConnectionID = "someone-else" }),
			[]string{`no connection "sandbox"`, "NANGO_CONNECTION_ID"}},
		{"bad secret key", withNango(func(c *nango.Config) { c.SecretKey = "9f3c2a1e-7b4d-4c8e-9a6f-2d1b0c9e8f7a" }),
			[]string{"rejected the server's secret key", "NANGO_SECRET_KEY"}},
		{"unknown integration", withNango(func(c *nango.Config) { c.IntegrationID = "outlook-prod" }),
			[]string{`no integration "outlook-prod"`, "NANGO_INTEGRATION_ID"}},
		{"refresh failed", withSim(func(o *sim.Options) { o.RefreshFailed = true }),
			[]string{"re-authorize"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opt)
			msg := h.fails("search_mail", nil)
			for _, w := range tc.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, msg, "9f3c2a1e-7b4d-4c8e-9a6f-2d1b0c9e8f7a", "the secret key never appears in output")
			assert.NotContains(t, msg, sim.DefaultSecretKey)
		})
	}
}

func TestRefusedRefreshAsksToReauthorizeWithALink(t *testing.T) {
	h := newHarness(t)
	h.sim.Inject(sim.Fault{RefreshFailed: true, Times: 10})
	msg := h.fails("search_mail", nil)
	assert.Contains(t, msg, "sign-in of connection \"sandbox\" must be renewed")
	assert.Contains(t, msg, "Retrying will not help")
	assert.Contains(t, msg, "https://connect.nango.dev/?session_token=")
	reconnects := h.sim.Reconnects()
	require.Len(t, reconnects, 1)
	assert.ElementsMatch(t, sim.DefaultScopes, reconnects[0].Scopes, "keeps what was granted")

	h = newHarness(t, withSim(func(o *sim.Options) { o.DenyReconnect = true }))
	h.sim.Inject(sim.Fault{RefreshFailed: true, Times: 10})
	msg = h.fails("search_mail", nil)
	assert.Contains(t, msg, "re-authorize the connection")
	assert.NotContains(t, msg, "session_token")
}

func TestNangoRateLimitIsRetried(t *testing.T) {
	h := newHarness(t)
	h.sim.Inject(sim.Fault{Status: 429, RetryAfter: "0", NangoRateLimit: true})
	h.ok("search_mail", map[string]any{"limit": 1}, nil)
}

func TestServerFaultsAreRetriedForReads(t *testing.T) {
	h := newHarness(t)
	h.sim.Inject(sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Status: 503, Times: 2})
	h.ok("search_mail", map[string]any{"limit": 1}, nil)
	assert.Len(t, h.graph("/v1.0/me/messages"), 3)
}

func TestAChangeWithoutAnAnswerIsNeverTryAgain(t *testing.T) {
	for _, tc := range []struct {
		tool  string
		args  map[string]any
		path  string
		where string
	}{
		{"send_mail", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "Q4", "body": "b"}, "/v1.0/me/sendMail", "Sent Items"},
		{"create_event", map[string]any{"subject": "Sync", "start": "2026-11-26T10:00", "end": "2026-11-26T10:30"}, "/v1.0/me/events", "the calendar"},
		{"create_draft", map[string]any{"subject": "Later", "body": "b"}, "/v1.0/me/messages", "Drafts"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			h := newHarness(t, withDeps(func(d *Deps) { d.Timeout = 300 * time.Millisecond }))
			h.sim.Inject(sim.Fault{Method: "POST", Path: tc.path, Hang: true})
			msg := h.fails(tc.tool, tc.args)
			assert.Contains(t, msg, "may or may not have taken effect")
			assert.Contains(t, msg, tc.where)
			assert.Contains(t, msg, "do not repeat it blindly")
			assert.NotContains(t, msg, "Try again")
			assert.NotContains(t, msg, "timed out")
			assert.Len(t, h.graph(tc.path), 1, "made once, never repeated")
		})
	}
	// A read that meets its deadline may be tried again.
	h := newHarness(t, withDeps(func(d *Deps) { d.Timeout = 300 * time.Millisecond }))
	h.sim.Inject(sim.Fault{Method: "GET", Path: "/v1.0/me/messages", Hang: true})
	assert.Contains(t, h.fails("search_mail", nil), "Try again")
}

func TestACancelledSendRunsToItsAnswer(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.Latency = 300 * time.Millisecond }))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	// The client cancels while the send is on its way to Outlook.
	res, err := h.client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "send_mail",
		Arguments: map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "Cancelled late", "body": "b"}}})
	if err == nil { // the in-process client still waits for the answer: it is the real outcome
		require.False(t, res.IsError, textOf(res))
		assert.Contains(t, textOf(res), "Sent")
	}
	require.Eventually(t, func() bool { return len(h.sim.Sent()) == 1 }, 2*time.Second, 10*time.Millisecond,
		"the send that had left was completed, not abandoned half-way")
	assert.Contains(t, string(h.sim.Sent()[0]), `"subject":"Cancelled late"`)
	assert.Len(t, h.graph("/v1.0/me/sendMail"), 1)
}
