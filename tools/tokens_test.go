package tools

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tiktoken-go/tokenizer"
)

var (
	o200kOnce  sync.Once
	o200kCodec tokenizer.Codec
	o200kErr   error
)

// o200k counts tokens as OpenAI's o200k_base tokenizer does: the measure
// of the targets, against which the server's cheap estimate is
// checked. Test-only: the tokenizer's tables stay out of the binary.
func o200k(t testing.TB, s string) int {
	o200kOnce.Do(func() { o200kCodec, o200kErr = tokenizer.Get(tokenizer.O200kBase) })
	require.NoError(t, o200kErr)
	n, err := o200kCodec.Count(s)
	require.NoError(t, err)
	return n
}

func TestO200kCountsTokens(t *testing.T) {
	require.Equal(t, 2, o200k(t, "Hello world"))
}

// The targets on the sandbox fixture: what a model pays to choose
// its next call.
func TestListTextsMeetTheirTokenTargets(t *testing.T) {
	h := newHarness(t)

	var mail SearchMailResult
	text := h.ok("search_mail", map[string]any{"limit": 10}, &mail)
	require.Len(t, mail.Messages, 10)
	for _, m := range mail.Messages {
		require.NotEmpty(t, m.Preview)
	}
	n := o200k(t, text)
	t.Logf("search_mail, 10 messages: %d tokens", n)
	assert.LessOrEqual(t, n, 600)

	var week ListEventsResult
	text = h.ok("list_events", map[string]any{"start": "2026-11-30", "end": "2026-12-04"}, &week)
	require.Len(t, week.Events, 10, "the work week after the fixture's today")
	n = o200k(t, text)
	t.Logf("list_events, work week: %d tokens", n)
	assert.LessOrEqual(t, n, 900)
}

// TestTokensOfListTexts logs what each list (and a read or two, for
// scale) costs on the fixture: the table in BENCHMARKS.md.
func TestTokensOfListTexts(t *testing.T) {
	h := newHarness(t)
	var mail SearchMailResult
	var week ListEventsResult
	var thread, attached string
	for _, c := range []struct {
		tool string
		args map[string]any
		out  any
	}{
		{"search_mail", map[string]any{"limit": 10}, &mail},
		{"list_events", map[string]any{"start": "2026-11-30", "end": "2026-12-04"}, &week},
		{"list_mail_folders", nil, nil},
		{"list_calendars", nil, nil},
		{"find_contacts", map[string]any{"query": "an"}, nil},
		{"get_thread", map[string]any{"message_id": &thread}, nil},
		{"list_attachments", map[string]any{"message_id": &attached}, nil},
		{"get_free_busy", map[string]any{"emails": []string{"kenji.watanabe@contoso.com", "daniel.obrien@contoso.com"}, "start": "2026-11-30", "end": "2026-12-04"}, nil},
		{"find_meeting_times", map[string]any{"attendees": []string{"daniel.obrien@contoso.com", "kenji.watanabe@contoso.com"}, "duration_minutes": 30, "start": "2026-11-30T08:00:00Z", "end": "2026-12-02T18:00:00Z"}, nil},
		{"get_message", map[string]any{"id": &thread}, nil},
	} {
		for k, v := range c.args {
			if p, ok := v.(*string); ok {
				c.args[k] = *p
			}
		}
		text := h.ok(c.tool, c.args, c.out)
		t.Logf("| %s | %d |", c.tool, o200k(t, text))
		if c.tool == "search_mail" {
			for _, m := range mail.Messages {
				if strings.HasPrefix(m.Subject, "RE: Onboarding") {
					thread = m.ID
				}
				if m.HasAttachments {
					attached = m.ID
				}
			}
		}
	}
}
