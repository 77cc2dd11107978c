package tools

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

func TestSearchMailListsLatestMailCompactly(t *testing.T) {
	// With Graph's long ids, 10 messages in text and structuredContent are
	// about 3,400 tokens, estimated just over what the default budget aims
	// at, which stops the list at 9 (budget_test.go): this test is about
	// the listing, not the budget.
	h := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 8000 }))
	var res SearchMailResult
	text := h.ok("search_mail", nil, &res)

	require.Len(t, res.Messages, 10, "default limit")
	for i := 1; i < len(res.Messages); i++ {
		assert.GreaterOrEqual(t, res.Messages[i-1].ReceivedAt, res.Messages[i].ReceivedAt, "newest first")
	}
	assert.NotEmpty(t, res.NextCursor)
	req := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, messageListFields, req.Query.Get("$select"), "never pull whole messages for a list")
	assert.Equal(t, "10", req.Query.Get("$top"))
	assert.Equal(t, "receivedDateTime desc", req.Query.Get("$orderby"))
	assert.Contains(t, req.Header.Get("Prefer"), `IdType="ImmutableId"`, "ids that survive moves")

	// The model reads the text. Measured with the o200k tokenizer it is
	// about 1,200 tokens for 10 messages, 500 of them Graph's long ids (see
	// BENCHMARKS.md); this guards the rest against growth.
	assert.Less(t, len(text), 3300, "10 messages cost %d characters:\n%s", len(text), text)
}

func TestSearchMailFiltersWithoutQueryUseODataFilter(t *testing.T) {
	h := newHarness(t)
	var res SearchMailResult
	h.ok("search_mail", map[string]any{"unread_only": true, "has_attachments": false, "received_after": "2026-11-01", "folder": "inbox"}, &res)

	req := h.lastGraph("/v1.0/me/mailFolders/inbox/messages")
	assert.Equal(t, "receivedDateTime ge 2026-11-01T00:00:00Z and isRead eq false and hasAttachments eq false", req.Query.Get("$filter"),
		"the ordered property leads the filter")
	assert.Equal(t, "receivedDateTime desc", req.Query.Get("$orderby"))
	assert.Empty(t, req.Query.Get("$search"))
	require.NotEmpty(t, res.Messages)
	for _, m := range res.Messages {
		assert.False(t, m.IsRead)
		assert.False(t, m.HasAttachments)
		assert.GreaterOrEqual(t, m.ReceivedAt, "2026-11-01")
	}
}

func TestSearchMailQueryPutsEveryConstraintIntoKQL(t *testing.T) {
	h := newHarness(t)
	var all SearchMailResult
	h.ok("search_mail", map[string]any{"limit": 50}, &all)
	sender := all.Messages[0].From.Address

	var res SearchMailResult
	h.ok("search_mail", map[string]any{"query": "project", "from": sender, "received_after": "2026-10-01", "has_attachments": true}, &res)
	req := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, `"project AND from:`+sender+` AND received>=2026-10-01 AND hasAttachments:true"`, req.Query.Get("$search"))
	assert.Empty(t, req.Query.Get("$orderby"), "Graph refuses $search with $orderby")
	assert.Empty(t, req.Query.Get("$filter"), "Graph refuses $search with $filter")
}

func TestSearchMailFromANameSearches(t *testing.T) {
	h := newHarness(t)
	h.ok("search_mail", map[string]any{"from": `Dan "the man" O'Neil`}, nil)
	req := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, `"from:\"Dan the man O'Neil\""`, req.Query.Get("$search"), "a quote in a name cannot end the phrase")
}

func TestSearchMailEscapesHostileArguments(t *testing.T) {
	h := newHarness(t)

	// A quote in the query cannot end the KQL string early.
	var res SearchMailResult
	h.ok("search_mail", map[string]any{"query": `subject:"Q4" plan O'Brien's`}, &res)
	req := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, `"subject:\"Q4\" plan O'Brien's"`, req.Query.Get("$search"))
	require.NotEmpty(t, res.Messages, "the message about O'Brien's \"Q4\" plan is found")
	assert.Contains(t, res.Messages[0].Subject, `"Q4"`)

	// A quote in an address cannot end the OData literal.
	h.ok("search_mail", map[string]any{"from": "o'brien@contoso.com"}, nil)
	req = h.lastGraph("/v1.0/me/messages")
	assert.Contains(t, req.Query.Get("$filter"), "from/emailAddress/address eq 'o''brien@contoso.com'")

	// A slash or query in a folder id cannot change the path.
	h.fails("search_mail", map[string]any{"folder": "inbox/../../users?$top=999"})
	for _, r := range h.graph("/v1.0/") {
		assert.NotContains(t, r.Path, "/users", "the folder argument escaped its path segment: %s", r.Path)
		assert.NotEqual(t, "999", r.Query.Get("$top"))
	}
}

func TestSearchMailPagesWithCursor(t *testing.T) {
	h := newHarness(t)
	var first, second SearchMailResult
	h.ok("search_mail", map[string]any{"folder": "inbox", "limit": 3}, &first)
	require.Len(t, first.Messages, 3)
	require.NotEmpty(t, first.NextCursor)

	h.ok("search_mail", map[string]any{"cursor": first.NextCursor}, &second)
	require.NotEmpty(t, second.Messages)
	assert.NotEqual(t, first.Messages[0].ID, second.Messages[0].ID)
	assert.Less(t, second.Messages[0].ReceivedAt, first.Messages[2].ReceivedAt, "the next page continues where the first ended")
	assert.Contains(t, h.lastGraph("/v1.0/me/mailFolders/inbox/messages").Query.Get("$skip"), "3")

	// The same arguments with the cursor are fine; other arguments are not.
	h.ok("search_mail", map[string]any{"folder": "inbox", "cursor": first.NextCursor}, nil)
	msg := h.fails("search_mail", map[string]any{"folder": "archive", "cursor": first.NextCursor})
	assert.Contains(t, msg, `"cursor"`)
	msg = h.fails("list_events", map[string]any{"start": "2026-11-25", "end": "2026-11-26", "cursor": first.NextCursor})
	assert.Contains(t, msg, "not a cursor of list_events")
	assert.Contains(t, h.fails("search_mail", map[string]any{"cursor": "bm90IGEgY3Vyc29y"}), "not a cursor")
}

func TestSearchMailRejectsBadInputWithoutCallingGraph(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"limit": 0.5}, `"limit"`},
		{map[string]any{"limit": 51}, `"limit": must be between 1 and 50`},
		{map[string]any{"limit": "ten"}, `"limit": must be an integer`},
		{map[string]any{"received_after": "yesterday"}, `"received_after"`},
		{map[string]any{"received_after": "2026-11-20", "received_before": "2026-11-10"}, `"received_before": must be later`},
		{map[string]any{"unread_only": "yes"}, `"unread_only": must be true or false`},
		{map[string]any{"sender": "ann"}, `"sender": is not an argument`},
	} {
		assert.Contains(t, h.fails("search_mail", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/messages"), "no Graph call for bad input")
}

func TestSearchMailUnreadWithQueryFiltersThePage(t *testing.T) {
	h := newHarness(t)
	var res SearchMailResult
	h.ok("search_mail", map[string]any{"query": "the", "unread_only": true, "limit": 50}, &res)
	assert.NotContains(t, h.lastGraph("/v1.0/me/messages").Query.Get("$search"), "isRead", "read state has no KQL property")
	for _, m := range res.Messages {
		assert.False(t, m.IsRead)
	}
}

func TestGetMessageReturnsPlainTextBodyAndAttachments(t *testing.T) {
	h := newHarness(t)
	var list SearchMailResult
	h.ok("search_mail", map[string]any{"has_attachments": true, "limit": 1}, &list)
	require.Len(t, list.Messages, 1)

	var msg MessageResult
	text := h.ok("get_message", map[string]any{"id": list.Messages[0].ID}, &msg)
	assert.Equal(t, list.Messages[0].ID, msg.ID)
	assert.NotEmpty(t, msg.Body)
	assert.NotContains(t, msg.Body, "<p>", "plain text, not HTML")
	require.NotEmpty(t, msg.Attachments)
	assert.NotEmpty(t, msg.Attachments[0].Name)
	assert.Contains(t, text, "Attachment: "+msg.Attachments[0].Name)

	req := h.lastGraph("/v1.0/me/messages/")
	assert.NotContains(t, req.Header.Get("Prefer"), "outlook.body-content-type", "HTML, converted here without what a reader never sees")
	assert.Contains(t, req.Query.Get("$expand"), "attachments($select=")
	assert.NotContains(t, req.Query.Get("$expand"), "contentBytes")
}

func TestGetMessageErrors(t *testing.T) {
	h := newHarness(t)
	assert.Contains(t, h.fails("get_message", nil), `"id": is required`)
	assert.Contains(t, h.fails("get_message", map[string]any{"id": "AAMkAGI2TG93AAA="}), "Not found")
	assert.Contains(t, h.fails("get_message", map[string]any{"id": "../../me/sendMail"}), `Invalid argument "id"`)
	assert.Empty(t, h.graph("/v1.0/me/sendMail"), "an id is one path segment")
}

func TestSendMailSendsExactlyWhatWasAsked(t *testing.T) {
	h := newHarness(t)
	var res SendMailResult
	text := h.ok("send_mail", map[string]any{
		"to": []string{"Ann Lee <ann@contoso.com>"}, "cc": []string{"bob@contoso.com"},
		"subject": "Lunch?", "body": "<b>Friday</b> at noon", "body_format": "html", "importance": "high",
	}, &res)
	assert.Equal(t, "accepted", res.Status)
	assert.Contains(t, text, "Sent")
	assert.Contains(t, text, "Ann Lee <ann@contoso.com>")

	sent := h.sim.Sent()
	require.Len(t, sent, 1)
	var msg map[string]any
	require.NoError(t, json.Unmarshal(sent[0], &msg))
	assert.Equal(t, "Lunch?", msg["subject"])
	assert.Equal(t, map[string]any{"contentType": "HTML", "content": "<b>Friday</b> at noon"}, msg["body"])
	assert.Equal(t, "high", msg["importance"])
	assert.Equal(t, []any{map[string]any{"emailAddress": map[string]any{"name": "Ann Lee", "address": "ann@contoso.com"}}}, msg["toRecipients"])
	assert.Len(t, msg["ccRecipients"], 1)

	var body map[string]any
	require.NoError(t, json.Unmarshal(h.lastGraph("/v1.0/me/sendMail").Body, &body))
	assert.Equal(t, true, body["saveToSentItems"])

	// Saved to Sent Items: it shows up there.
	var sentItems SearchMailResult
	h.ok("search_mail", map[string]any{"folder": "sentitems", "limit": 5}, &sentItems)
	assert.Equal(t, "Lunch?", sentItems.Messages[0].Subject)
}

func TestSendMailRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"subject": "s", "body": "b"}, `"to": is required`},
		{map[string]any{"to": []string{}, "subject": "s", "body": "b"}, `"to": is required`},
		{map[string]any{"to": "ann@contoso.com", "subject": "s", "body": "b"}, `"to": must be a list`},
		{map[string]any{"to": []string{"ann@"}, "subject": "s", "body": "b"}, `"to": "ann@" is not an email address`},
		{map[string]any{"to": []string{"ann@contoso.com"}, "bcc": []string{"x y"}, "subject": "s", "body": "b"}, `"bcc"`},
		{map[string]any{"to": []string{"ann@contoso.com"}, "body": "b"}, `"subject": is required`},
		{map[string]any{"to": []string{"ann@contoso.com"}, "subject": "s", "body": "b", "body_format": "markdown"}, `"body_format"`},
		{map[string]any{"to": []string{"ann@contoso.com"}, "subject": "s", "body": "b", "importance": "urgent"}, `"importance"`},
	} {
		assert.Contains(t, h.fails("send_mail", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/sendMail"))
	assert.Empty(t, h.sim.Sent())
}

func TestSendMailIsNeverSentTwice(t *testing.T) {
	h := newHarness(t)
	// Graph executed the send, then the answer failed: retrying would send it again.
	h.sim.Inject(sim.Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 503, AfterEffect: true})
	msg := h.fails("send_mail", map[string]any{"to": []string{"ann@contoso.com"}, "subject": "Once", "body": "only once"})
	assert.Contains(t, msg, "may or may not have taken effect")
	assert.Contains(t, msg, "NOT retried")
	assert.Len(t, h.graph("/v1.0/me/sendMail"), 1, "exactly one attempt")
	assert.Len(t, h.sim.Sent(), 1)
}

func TestSendMailRetriesThrottlingThenSucceeds(t *testing.T) {
	h := newHarness(t)
	// Graph throttles before it executes: a 429 is safe to retry, even for a send.
	h.sim.Inject(sim.Fault{Method: "POST", Path: "/v1.0/me/sendMail", Status: 429, RetryAfter: "0", Times: 2})
	h.ok("send_mail", map[string]any{"to": []string{"ann@contoso.com"}, "subject": "Hi", "body": "b"}, nil)
	assert.Len(t, h.graph("/v1.0/me/sendMail"), 3)
	assert.Len(t, h.sim.Sent(), 1)
}

func TestThrottlingBeyondTheDeadlineSaysWhenToRetry(t *testing.T) {
	h := newHarness(t, withNango(func(c *nango.Config) { c.MaxWait = time.Second }))
	h.sim.Inject(sim.Fault{Path: "/v1.0/me/messages", Status: 429, RetryAfter: "120", Times: 5})
	msg := h.fails("search_mail", nil)
	assert.Contains(t, msg, "throttling")
	assert.Contains(t, msg, "Retry after 120 s")
	assert.Len(t, h.graph("/v1.0/me/messages"), 1, "no pointless waiting")
}

func TestConcurrentCallsStayWithinOutlooksLimit(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.Latency = 20 * time.Millisecond }))
	done := make(chan struct{})
	for range 12 {
		go func() {
			defer func() { done <- struct{}{} }()
			h.ok("search_mail", map[string]any{"limit": 1}, nil)
		}()
	}
	for range 12 {
		<-done
	}
	assert.LessOrEqual(t, h.sim.MaxInFlight(), 4, "at most 4 Graph calls in flight per mailbox")
	assert.Greater(t, h.sim.MaxInFlight(), 1, "calls do run in parallel")
}
