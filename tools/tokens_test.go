package tools

import (
	"crypto/sha256"
	"encoding/base32"
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

// withShortIDs replaces each Graph id in text by a 9-character
// placeholder, the length of the short handles that replace Graph ids
// before the text is built (branch handles). Until those land, the token
// targets below are measured this way; once they do, drop it.
func withShortIDs(text string, ids ...string) string {
	for _, id := range ids {
		if id != "" {
			sum := sha256.Sum256([]byte(id))
			text = strings.ReplaceAll(text, id, "m"+strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:8])
		}
	}
	return text
}

// The targets on the sandbox fixture: what a model pays to choose
// its next call.
func TestListTextsMeetTheirTokenTargets(t *testing.T) {
	h := newHarness(t)

	var mail SearchMailResult
	text := h.ok("search_mail", map[string]any{"limit": 10}, &mail)
	require.Len(t, mail.Messages, 10)
	var ids []string
	for _, m := range mail.Messages {
		require.NotEmpty(t, m.Preview)
		ids = append(ids, m.ID)
	}
	n := o200k(t, withShortIDs(text, ids...))
	t.Logf("search_mail, 10 messages: %d tokens (%d with Graph ids)", n, o200k(t, text))
	assert.LessOrEqual(t, n, 600)

	var week ListEventsResult
	text = h.ok("list_events", map[string]any{"start": "2026-11-30", "end": "2026-12-04"}, &week)
	require.Len(t, week.Events, 10, "the work week after the fixture's today")
	ids = ids[:0]
	for _, e := range week.Events {
		ids = append(ids, e.ID)
	}
	n = o200k(t, withShortIDs(text, ids...))
	t.Logf("list_events, work week: %d tokens (%d with Graph ids)", n, o200k(t, text))
	assert.LessOrEqual(t, n, 900)
}
