package tools

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// everyToolCall is a valid call of each tool, pointed at the largest
// fixtures where a tool reads something (sim/fixture_large.go). A tool
// missing here fails TestEveryToolStaysWithinTheBudget: add its call.
func everyToolCall(h *harness) map[string]map[string]any {
	newsletter := sim.LargeNewsletterID
	var draft ComposeResult
	h.ok("create_draft", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "Budget", "body": "Draft."}, &draft)
	var contacts FindContactsResult
	h.ok("find_contacts", map[string]any{"query": "a"}, &contacts)
	contact := ""
	for _, c := range contacts.Contacts {
		if c.Source == "contacts" && contact == "" {
			contact = c.ID
		}
	}
	return map[string]map[string]any{
		"search_mail":       {"limit": 50},
		"get_message":       {"id": newsletter},
		"send_mail":         {"to": []string{"ann.fischer@contoso.com"}, "subject": "Hi", "body": "Hello."},
		"reply_to_message":  {"message_id": newsletter, "body": "Thanks.", "draft_only": true},
		"forward_message":   {"message_id": newsletter, "to": []string{"ann.fischer@contoso.com"}, "draft_only": true},
		"create_draft":      {"to": []string{"ann.fischer@contoso.com"}, "subject": "Hi", "body": "Hello."},
		"send_draft":        {"draft_id": draft.DraftID},
		"list_attachments":  {"message_id": newsletter},
		"read_attachment":   {"message_id": newsletter, "attachment_id": sim.LargeAttachmentID, "max_chars": 100_000},
		"list_mail_folders": {"limit": 100},
		"get_thread":        {"message_id": sim.LargeThreadMessageID(60), "limit": 50, "max_chars": 100_000},
		"move_message":      {"message_id": sim.LargeThreadMessageID(1), "destination": "inbox"},
		"update_message":    {"message_id": sim.LargeThreadMessageID(2), "is_read": false},
		"delete_message":    {"message_id": sim.LargeThreadMessageID(3)},
		"list_events":       {"start": "2026-01-01", "end": "2027-12-31", "limit": 100},
		"list_calendars":    {},
		"get_event":         {"event_id": sim.LargeEventID, "max_chars": 100_000},
		"create_event":      {"subject": "Sync", "start": "2026-11-26T10:00", "end": "2026-11-26T10:30", "attendees": manyAttendees(300)},
		"update_event":      {"event_id": sim.LargeEventID, "location": "Room 1"},
		"cancel_event":      {"event_id": eventID(h, "Q4 roadmap review", "2026-11-26", "2026-11-26")},
		"respond_to_event":  {"event_id": eventID(h, "Atlas launch readiness review", "2026-12-02", "2026-12-02"), "response": "accept"},
		"get_free_busy": {"emails": []string{"kenji.watanabe@contoso.com", "priya.raman@contoso.com", "sofia.martinez@contoso.com"},
			"start": "2026-11-23T00:00:00Z", "end": "2026-12-05T00:00:00Z", "interval_minutes": 15},
		"find_meeting_times":    {"attendees": []string{"kenji.watanabe@contoso.com"}, "duration_minutes": 30, "start": "2026-11-26T08:00:00Z", "end": "2026-12-10T18:00:00Z"},
		"find_contacts":         {"query": "a", "limit": 50},
		"get_contact":           {"contact_id": contact},
		"create_contact":        {"name": "Ann Lee", "emails": []string{"ann.lee@example.com"}},
		"get_mailbox_settings":  {},
		"set_automatic_replies": {"status": "alwaysEnabled", "internal_message": strings.Repeat("Away until March. ", 2000)},
		"get_profile":           {},
	}
}

func manyAttendees(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"address": "colleague." + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "@contoso.com"}
	}
	return out
}

// responseSize is what a response costs, text and structuredContent.
func responseSize(t testing.TB, res *mcp.CallToolResult) (text, structured string) {
	data, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	return textOf(res), string(data)
}

func TestEveryToolStaysWithinTheBudget(t *testing.T) {
	for _, budget := range []int{DefaultMaxResponseTokens, 1500} {
		h := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = budget }))
		calls := everyToolCall(h)
		for _, tool := range All() {
			args, ok := calls[tool.Name]
			require.True(t, ok, "everyToolCall has no call of %s: add one", tool.Name)
			res := h.call(tool.Name, args)
			text, structured := responseSize(t, res)
			require.False(t, res.IsError, "%s: %s", tool.Name, text)
			real := o200k(t, text) + o200k(t, structured)
			assert.LessOrEqual(t, real, budget, "%s answers %d o200k tokens, over the budget of %d", tool.Name, real, budget)
			assert.LessOrEqual(t, estimateTokens(text)+estimateTokens(structured), budget, tool.Name)
			t.Logf("budget %d: %-22s %5d o200k tokens (text %d)", budget, tool.Name, real, o200k(t, text))
		}
	}
}

// The estimate may count more than the tokenizer, never much less: on
// every tool's real output (text and structuredContent), at most 5 %
// under, and at most 60 % over (beyond that, pages are needlessly short).
func TestEstimateFollowsTheTokenizer(t *testing.T) {
	h := newHarness(t)
	var over float64
	for name, args := range everyToolCall(h) {
		res := h.call(name, args)
		text, structured := responseSize(t, res)
		for _, s := range []string{text, structured} {
			real, est := o200k(t, s), estimateTokens(s)
			if real < 50 {
				continue
			}
			ratio := float64(est) / float64(real)
			assert.GreaterOrEqual(t, ratio, 0.95, "%s: estimate %d for %d tokens", name, est, real)
			assert.LessOrEqual(t, ratio, 1.6, "%s: estimate %d for %d tokens", name, est, real)
			over = max(over, ratio)
		}
	}
	t.Logf("highest estimate/o200k ratio: %.2f", over)
}

func TestEstimateCountsFences(t *testing.T) {
	assert.Equal(t, fenceTokens+estimateTokens("ab"), estimateTokens(untrusted("ab")))
}

// With a small budget, lists stop early with a cursor that resumes at the
// first message not shown, and the pages together are the whole listing.
func TestSmallBudgetPagesLists(t *testing.T) {
	h := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1500 }))
	big := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1 << 20 }))
	var whole SearchMailResult
	big.ok("search_mail", map[string]any{"limit": 20}, &whole)
	require.Len(t, whole.Messages, 20)

	var got []string
	args := map[string]any{"limit": 20}
	for range 40 {
		var page SearchMailResult
		res := h.call("search_mail", args)
		text, structured := responseSize(t, res)
		require.NoError(t, json.Unmarshal([]byte(structured), &page))
		assert.LessOrEqual(t, o200k(t, text)+o200k(t, structured), 1500)
		for _, m := range page.Messages {
			got = append(got, m.ID)
		}
		if page.NextCursor == "" || len(got) >= 20 {
			break
		}
		assert.Contains(t, text, "cursor="+page.NextCursor)
		args["cursor"] = page.NextCursor
	}
	assert.Equal(t, h.graphIDs(whole.Messages), h.graphIDs2(got[:20]), "nothing lost or repeated: the same 20 messages in the same order")
}

func TestCursorShownCountIsChecked(t *testing.T) {
	h := newHarness(t)
	args, _ := json.Marshal(SearchMailArgs{Limit: 10})
	for _, n := range []string{"-1", "1001", "1e9", `"3"`} {
		forged := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"search_mail","a":` + string(args) + `,"n":` + n + `}`))
		assert.Contains(t, h.fails("search_mail", map[string]any{"limit": 10, "cursor": forged}), `Invalid argument "cursor"`, n)
	}
	ok := base64.RawURLEncoding.EncodeToString([]byte(`{"t":"search_mail","a":` + string(args) + `,"n":3}`))
	var page SearchMailResult
	h.ok("search_mail", map[string]any{"cursor": ok}, &page)
	assert.Len(t, page.Messages, 7, "the first 3 of the first page were shown")
}

// Paging through the 200 KB newsletter with next_offset gives back the
// whole text: nothing lost, nothing repeated, each page within budget.
func TestPagingReassemblesTheNewsletter(t *testing.T) {
	h := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1200 }))
	big := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1 << 30 }))
	var all strings.Builder
	for offset := 0; ; {
		var whole MessageResult
		big.ok("get_message", map[string]any{"id": sim.LargeNewsletterID, "max_chars": 100_000, "offset": offset}, &whole)
		all.WriteString(whole.Body)
		if offset = whole.NextOffset; offset == 0 {
			break
		}
	}
	full := all.String()
	require.Greater(t, len(full), 100_000)
	assert.NotContains(t, full, "PREHEADER", "hidden text never reaches the body")
	assert.NotContains(t, full, "open.gif", "nor the tracking pixel")
	assert.NotContains(t, full, "utm_", "links are compact")

	var pages strings.Builder
	offset, calls := 0, 0
	for {
		var page MessageResult
		res := h.call("get_message", map[string]any{"id": sim.LargeNewsletterID, "offset": offset})
		text, structured := responseSize(t, res)
		require.False(t, res.IsError, text)
		require.NoError(t, json.Unmarshal([]byte(structured), &page))
		assert.LessOrEqual(t, o200k(t, text)+o200k(t, structured), 1200)
		pages.WriteString(page.Body)
		calls++
		if page.NextOffset == 0 {
			assert.Zero(t, page.RemainingChars)
			break
		}
		assert.Contains(t, text, "offset="+itoa(page.NextOffset))
		assert.Equal(t, len([]rune(full))-page.NextOffset, page.RemainingChars)
		assertCleanCut(t, full, page.NextOffset)
		offset = page.NextOffset
	}
	assert.Equal(t, full, pages.String(), "the pages put together are the whole text")
	t.Logf("200 KB newsletter: %d characters of text in %d pages", len([]rune(full)), calls)
}

// assertCleanCut checks that the text is not cut inside a word or a link
// at character offset at.
func assertCleanCut(t *testing.T, text string, at int) {
	t.Helper()
	r := []rune(text)
	before, after := string(r[max(at-30, 0):at]), string(r[at:min(at+30, len(r))])
	isWord := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	assert.False(t, isWord(before[len(before)-1]) && isWord(after[0]), "cut inside a word: %q|%q", before, after)
	open := strings.LastIndex(before, "<http")
	assert.False(t, open >= 0 && !strings.Contains(before[open:], ">"), "cut inside a link: %q|%q", before, after)
}

func TestGetMessageLeavesQuotedHistoryOut(t *testing.T) {
	h := newHarness(t)
	var reply, full MessageResult
	text := h.ok("get_message", map[string]any{"id": sim.LargeThreadMessageID(60)}, &reply)
	assert.True(t, reply.QuotedOmitted)
	assert.Contains(t, text, "include_quoted=true")
	assert.Contains(t, reply.Body, "Step 60 of the runbook")
	assert.NotContains(t, reply.Body, "Step 59")
	h.ok("get_message", map[string]any{"id": sim.LargeThreadMessageID(60), "include_quoted": true, "max_chars": 100_000}, &full)
	assert.False(t, full.QuotedOmitted)
	assert.Contains(t, full.Body, "Step 59")
}

func TestGetThreadPagesTheLongThread(t *testing.T) {
	h := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1000 }))
	seen := map[string]int{}
	var text strings.Builder
	offset := 0
	for range 100 {
		var page ThreadResult
		h.ok("get_thread", map[string]any{"message_id": sim.LargeThreadMessageID(1), "limit": 50, "offset": offset}, &page)
		for i, m := range page.Messages {
			if i > 0 || !m.Continued {
				seen[m.ID]++
				text.WriteString("|")
			}
			text.WriteString(m.Text)
		}
		if page.NextOffset == 0 {
			break
		}
		offset = page.NextOffset
	}
	assert.Len(t, seen, 50, "the latest 50 messages")
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s shown once", id)
	}
	assert.Contains(t, text.String(), "|Step 60 of the runbook")
	assert.NotContains(t, text.String(), "From:", "no quoted history")
}

func TestReadAttachmentPagesTheLargeTextFile(t *testing.T) {
	h := newHarness(t)
	var out ReadAttachmentResult
	text := h.ok("read_attachment", map[string]any{"message_id": sim.LargeNewsletterID, "attachment_id": sim.LargeAttachmentID}, &out)
	assert.Less(t, len([]rune(out.Content)), defaultMaxChars, "the default page is clamped to the budget")
	assert.Positive(t, out.NextOffset)
	assert.Greater(t, out.RemainingChars, 2_000_000-out.NextOffset-100_000, "a text file is read whole: what remains is known")
	assert.Contains(t, text, itoa(out.RemainingChars)+" more characters: call again with offset="+itoa(out.NextOffset))
	assert.True(t, strings.HasSuffix(out.Content, "\n"), "cut after a line")
}

func TestGetEventCountsManyAttendees(t *testing.T) {
	h := newHarness(t)
	var ev EventDetail
	text := h.ok("get_event", map[string]any{"event_id": sim.LargeEventID}, &ev)
	assert.Equal(t, 300, ev.AttendeeCount)
	assert.LessOrEqual(t, len(ev.Attendees), maxAttendees)
	assert.Equal(t, 300, ev.Responses["accepted"]+ev.Responses["tentativelyAccepted"]+ev.Responses["declined"]+ev.Responses["none"])
	assert.Contains(t, text, "300 attendees in all")
	assert.Positive(t, ev.NextOffset, "the long agenda is paged")
}

func TestCleanCut(t *testing.T) {
	for _, tc := range []struct{ s, want string }{
		{"First paragraph, long enough.\nA line.\n\nSecond one", "First paragraph, long enough.\nA line.\n\n"},
		{"one line that is long enough\nanother line, long", "one line that is long enough\n"},
		{"A sentence here, long enough. Another, goes", "A sentence here, long enough."},
		{"see rate limiting <https://dev.contoso.com/rfc-31/x>", "see rate"}, // a link stays with its text
		{"see rate limiting <https://dev.contoso.com/rfc-31> now", "see rate limiting <https://dev.contoso.com/rfc-31>"},
		{"words and more words", "words and more"},
	} {
		n := len(tc.s) - 3
		assert.Equal(t, tc.want, tc.s[:cleanCut(tc.s, n)], tc.s)
	}
	assert.Equal(t, "é", "é"[:cleanCut("é", 1)], "never inside a rune")
	assert.Equal(t, "ab\uE000cd…\uE001", cutText("ab\uE000cd ef gh ij", 7), "a fence the cut leaves open is closed")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestPreviewsNeverCutInsideAWordOrALink(t *testing.T) {
	assert.Equal(t, "Lukas requested your review on pull request !1842 Add tenant-level rate limiting. Reply…",
		preview("Lukas requested your review on pull request !1842 Add tenant-level rate limiting<https://dev.contoso.com/atlas/_git/pr/1842>. Reply here or open the link.", 90))
	assert.Equal(t, "See the docs", preview("See the docs <https://dev.cont…", 100), "a link Graph's preview cut short")
	assert.Equal(t, "short one", preview("short\n one", 100))
}

// bigResult is a result that does not know how to shrink: the last guard
// cuts it generically.
type bigResult struct {
	Items []string `json:"items"`
	Notes string   `json:"notes"`
}

func (r *bigResult) Text() string {
	return strings.Join(r.Items, "\n") + "\n" + untrusted(r.Notes)
}

func TestLastGuardCutsAnyResultHonestly(t *testing.T) {
	r := &bigResult{Notes: strings.Repeat("A note written by someone else, long. ", 300)}
	for i := range 300 {
		r.Items = append(r.Items, "item "+itoa(i)+" with some words in it")
	}
	c := &Call{Budget: 1000}
	text := c.fitBudget(r)
	data, _ := json.Marshal(r)
	assert.LessOrEqual(t, o200k(t, text)+o200k(t, string(data)), 1000)
	assert.Contains(t, text, "Shortened to fit the response budget of 1000 tokens")
	assert.Equal(t, strings.Count(text, string(fenceOpen)), strings.Count(text, string(fenceClose)), "fences stay balanced")
	assert.Equal(t, "item 0 with some words in it", r.Items[0], "the structured content is cut the same way as the text")
	assert.True(t, strings.HasSuffix(r.Notes, "…"), "a cut text says so")

	small := &bigResult{Items: []string{"one"}, Notes: "short"}
	assert.Equal(t, small.Text(), c.fitBudget(small), "what fits is left alone")
}

// textOnly renders more text than its structured content shows.
type textOnly struct {
	N int `json:"n"`
}

func (r *textOnly) Text() string {
	return "Header\n\n" + untrusted(strings.Repeat("Someone else's words go on. ", r.N))
}

func TestLastGuardCutsATextItCannotShrink(t *testing.T) {
	c := &Call{Budget: 600}
	text := c.fitBudget(&textOnly{N: 2000})
	assert.LessOrEqual(t, o200k(t, text)+o200k(t, `{"n":2000}`), 600)
	assert.True(t, strings.HasPrefix(text, "Header\n\n\uE000Someone"))
	assert.Contains(t, text, "…\uE001\n\n[Shortened to fit", "cut at a word, the fence closed, then the note")
}

// FuzzPaging: for any text and page size, paging from offset 0 with
// next_offset gives back the text exactly, each page within max_chars, in
// at most one page per character.
func FuzzPaging(f *testing.F) {
	f.Add("First paragraph.\n\nSee <https://contoso.com/a b> and more words. é😀 end", 7)
	f.Add(strings.Repeat("word ", 50), 3)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if !utf8.ValidString(s) {
			return
		}
		n = 1 + (n&0x7fffffff)%300
		var p Paging
		var b strings.Builder
		offset, runes := 0, utf8.RuneCountInString(s)
		for pages := 0; ; pages++ {
			require.LessOrEqual(t, pages, runes+1, "paging must progress")
			page, err := p.page(s, offset, n, false)
			if err != nil {
				require.Zero(t, runes, "only an empty text has no page at 0: %v", err)
				return
			}
			require.LessOrEqual(t, utf8.RuneCountInString(page), n)
			b.WriteString(page)
			if p.NextOffset == 0 {
				break
			}
			require.Greater(t, p.NextOffset, offset)
			offset = p.NextOffset
		}
		require.Equal(t, s, b.String())
	})
}
