package tools

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// searches are the $search values of the message listings Graph received.
func (h *harness) searches() []string {
	var out []string
	for _, r := range h.graph("/v1.0/me/") {
		if strings.HasSuffix(r.Path, "/messages") {
			out = append(out, r.Query.Get("$search"))
		}
	}
	return out
}

func subjectsOf(msgs []MessageSummary) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out
}

// exactHeader is how the text announces exact matches.
var exactHeader = regexp.MustCompile(`^\d+ messages? (for|in) `)

// The issue: "rate limits" from Lukas found nothing, while "rate limit"
// finds both of his mails. One looser retry with the stem finds them, and
// says they are not exact matches.
func TestSearchMailLoosensAnEmptySearchOnce(t *testing.T) {
	h := newHarness(t)
	var res SearchMailResult
	text := h.ok("search_mail", map[string]any{"query": "rate limits", "from": "Lukas"}, &res)

	assert.Equal(t, []string{`"rate limits AND from:Lukas"`, `"rate limit* AND from:Lukas"`}, h.searches(),
		"the query, then its looser form once: two Graph requests, no more")
	subjects := subjectsOf(res.Messages)
	assert.Contains(t, subjects, "Quick question on the rate-limit defaults")
	assert.Contains(t, subjects, "RE: Quick question on the rate-limit defaults")
	for _, m := range res.Messages {
		assert.Equal(t, "Lukas Becker", m.From.Name, "the sender filter stays")
	}

	assert.Equal(t, "rate limits AND from:Lukas", res.Query, "what was asked")
	assert.Equal(t, "rate limit* AND from:Lukas", res.LoosenedTo, "what found these")
	assert.True(t, strings.HasPrefix(text, "No exact matches for `rate limits AND from:Lukas` in all folders. Showing "), text)
	assert.Contains(t, text, "matches of the looser query `rate limit* AND from:Lukas` instead, not exact matches")
	assert.NotRegexp(t, exactHeader, text, "looser matches are never announced as matches of the query")
	assert.Empty(t, res.Suggestions, "it found something")
}

// A search that matches shows what ran and makes one request: the retry is
// for empty answers only.
func TestSearchMailShowsTheQueryThatRan(t *testing.T) {
	h := newHarness(t)
	var res SearchMailResult
	text := h.ok("search_mail", map[string]any{"query": "rate limit", "from": "Lukas", "folder": "inbox"}, &res)
	require.NotEmpty(t, res.Messages)
	assert.Equal(t, []string{`"rate limit AND from:Lukas"`}, h.searches())
	assert.Equal(t, "rate limit AND from:Lukas", res.Query)
	assert.Empty(t, res.LoosenedTo)
	assert.Regexp(t, "^\\d+ messages? for `rate limit AND from:Lukas` in inbox", text)

	// A word that has a stem, found as it is: no retry either.
	h = newHarness(t)
	res = SearchMailResult{}
	h.ok("search_mail", map[string]any{"query": "rate limits"}, &res)
	require.NotEmpty(t, res.Messages)
	assert.Len(t, h.searches(), 1)
	assert.Empty(t, res.LoosenedTo)

	// Filters without a query are listed as such.
	res = SearchMailResult{}
	text = h.ok("search_mail", map[string]any{"from": "lukas.becker@contoso.com", "received_after": "2026-11-01", "unread_only": true, "has_attachments": false}, &res)
	assert.Equal(t, "from:lukas.becker@contoso.com, received>=2026-11-01, hasAttachments:false, unread only", res.Query)
	assert.True(t, strings.HasPrefix(text, "No messages for `"+res.Query+"` in all folders."), text)
	res = SearchMailResult{}
	text = h.ok("search_mail", map[string]any{"limit": 2, "folder": "archive"}, &res)
	assert.Empty(t, res.Query)
	assert.True(t, strings.HasPrefix(text, "2 messages in archive, newest first"), text)
}

// When nothing matches, even loosely, the answer says what ran, why it
// may have found nothing, and what to try: each suggestion a whole
// argument set that runs as it is.
func TestSearchMailExplainsAnEmptySearch(t *testing.T) {
	h := newHarness(t)
	var res SearchMailResult
	args := map[string]any{"query": "zebras giraffes", "from": "Lukas", "folder": "inbox", "received_after": "2026-11-01", "limit": 5}
	text := h.ok("search_mail", args, &res)
	require.Empty(t, res.Messages)
	assert.Len(t, h.searches(), 2, "one looser retry, then suggestions only")
	assert.Equal(t, "zebra* giraffe* AND from:Lukas AND received>=2026-11-01", res.LoosenedTo)
	assert.Contains(t, text, "No messages for `zebras giraffes AND from:Lukas AND received>=2026-11-01` in inbox, nor for the looser query `zebra* giraffe* AND from:Lukas AND received>=2026-11-01`.")
	for _, why := range []string{"every term must match", "from must start a word of the sender's name or address", "only inbox was searched", "only the dates given"} {
		assert.Contains(t, text, why)
	}

	var tries []SearchMailArgs
	for _, s := range res.Suggestions {
		assert.Contains(t, text, s, "the text shows every suggestion")
		var a SearchMailArgs
		require.NoError(t, strictJSON([]byte(s), &a), s)
		tries = append(tries, a)
	}
	assert.Equal(t, []SearchMailArgs{
		{Query: "giraffe*", From: "Lukas", Folder: "inbox", ReceivedAfter: "2026-11-01", Limit: 5}, // fewer terms
		{Query: "zebra* giraffe*", Folder: "inbox", ReceivedAfter: "2026-11-01", Limit: 5},         // no sender
		{Query: "zebra* giraffe*", From: "Lukas", Folder: "inbox", Limit: 5},                       // any date
		{Query: "zebra* giraffe*", From: "Lukas", ReceivedAfter: "2026-11-01", Limit: 5},           // any folder
	}, tries)
	for _, s := range res.Suggestions {
		var a map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &a))
		h.ok("search_mail", a, nil)
	}

	// Nothing to loosen: no retry; the sender as free text is suggested.
	h = newHarness(t)
	res = SearchMailResult{}
	text = h.ok("search_mail", map[string]any{"query": "xylophone", "from": "Lukas"}, &res)
	assert.Len(t, h.searches(), 1)
	assert.Empty(t, res.LoosenedTo)
	assert.Equal(t, []string{`{"query":"xylophone"}`}, res.Suggestions)
	assert.Contains(t, text, "No messages for `xylophone AND from:Lukas` in all folders.\nWhy it may be empty:")

	// A folder given by id is suggested by its handle.
	var folders ListMailFoldersResult
	h.ok("list_mail_folders", nil, &folders)
	var handle string
	for _, f := range folders.Folders {
		if f.Name == "Design reviews" {
			handle = f.ID
		}
	}
	require.NotEmpty(t, handle)
	res = SearchMailResult{}
	text = h.ok("search_mail", map[string]any{"query": "xylophone", "from": "Lukas", "folder": handle}, &res)
	assert.Contains(t, text, "in the folder given")
	assert.Contains(t, res.Suggestions, `{"query":"xylophone","folder":"`+handle+`"}`)
	assert.NotContains(t, text, h.graphID(handle), "no long Graph id")
}

// Paging a looser answer continues the looser query, and says so on every
// page; a cursor cannot make a query looser that has no looser form.
func TestSearchMailPagesTheLooserQuery(t *testing.T) {
	h := newHarness(t)
	args := map[string]any{"query": "rate limits", "from": "Lukas", "limit": 2}
	var first, second SearchMailResult
	h.ok("search_mail", args, &first)
	require.Len(t, first.Messages, 2)
	require.NotEmpty(t, first.NextCursor)

	args["cursor"] = first.NextCursor // with the same arguments, as the model repeats them
	text := h.ok("search_mail", args, &second)
	last := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, `"rate limit* AND from:Lukas"`, last.Query.Get("$search"))
	assert.Equal(t, "2", last.Query.Get("$skip"))
	assert.Len(t, h.searches(), 3, "the next page runs the looser query alone")
	require.NotEmpty(t, second.Messages)
	assert.NotEqual(t, first.Messages[0].ID, second.Messages[0].ID)
	assert.Equal(t, "rate limit* AND from:Lukas", second.LoosenedTo)
	assert.Contains(t, text, "not exact matches")
	assert.NotRegexp(t, exactHeader, text)

	// One looser match reads as one.
	one := newHarness(t)
	text = one.ok("search_mail", map[string]any{"query": "subject:limits", "from": "Lukas", "limit": 1}, nil)
	assert.Contains(t, text, "Showing 1 match of the looser query `subject:limit* AND from:Lukas` instead")

	// The cursor alone continues too.
	second = SearchMailResult{}
	h.ok("search_mail", map[string]any{"cursor": first.NextCursor}, &second)
	assert.Equal(t, "rate limit* AND from:Lukas", second.LoosenedTo)

	// A looser cursor for a query without a looser form is refused.
	forged, _ := json.Marshal(map[string]any{"t": "search_mail", "a": SearchMailArgs{Query: "budget"}, "s": map[string][]string{"$skip": {"10"}}, "l": true})
	msg := h.fails("search_mail", map[string]any{"cursor": base64.RawURLEncoding.EncodeToString(forged)})
	assert.Contains(t, msg, `Invalid argument "cursor"`)
}

// A page of a looser answer cut short by the response budget resumes the
// looser query.
func TestSearchMailBudgetStopKeepsTheLooserQuery(t *testing.T) {
	h := newHarness(t, withDeps(func(d *Deps) { d.MaxResponseTokens = 1500 }))
	var page SearchMailResult
	h.ok("search_mail", map[string]any{"query": "rate limits", "from": "Lukas", "limit": 20}, &page)
	require.NotEmpty(t, page.LoosenedTo)
	require.Less(t, len(page.Messages), 20, "the budget stopped the page")
	data, err := base64.RawURLEncoding.DecodeString(page.NextCursor)
	require.NoError(t, err)
	var c cursor
	require.NoError(t, json.Unmarshal(data, &c))
	assert.True(t, c.Looser, "%s", data)

	var next SearchMailResult
	h.ok("search_mail", map[string]any{"cursor": page.NextCursor}, &next)
	assert.Equal(t, `"rate limit* AND from:Lukas"`, h.lastGraph("/v1.0/me/messages").Query.Get("$search"))
	require.NotEmpty(t, next.Messages)
	assert.NotEqual(t, page.Messages[len(page.Messages)-1].ID, next.Messages[0].ID)
	assert.Equal(t, page.LoosenedTo, next.LoosenedTo)
}

func TestLooserQuery(t *testing.T) {
	for q, want := range map[string]string{
		"rate limits":                      "rate limit*",
		"Rate LIMITS":                      "Rate LIMIT*",
		"policies boxes patches classes":   "polic* box* patch* class*",
		"limiting planned billing needed":  "limit* plan* bill* need*",
		"bugs fees things":                 "bug* fee* thing*",
		"subject:limits from:lukas":        "subject:limit* from:lukas",
		"Body:invoices":                    "Body:invoice*",
		"limits AND policies OR NOT boxes": "limit* AND polic* OR NOT box*",
		"(limits OR quotas)":               "(limit* OR quota*)",
		"rate\tlimits\nnow":                "rate\tlimit*\nnow",
		"niños":                            "niño*",
		`limits AND "from:ceo limits"`:     `limit* AND "from:ceo limits"`,
		// Nothing to loosen: "" (no retry).
		"rate limit":              "",
		`"rate limits"`:           "",
		`subject:"rate limits"`:   "",
		"from:lukas to:teams":     "",
		"status analysis access":  "",
		"limits* -limits +limits": "",
		"lim:its rate-limits":     "",
		"AND OR NOT NEAR":         "",
		"sing red ed s was":       "",
		`x" OR from:ceo`:          "",
		`limits" OR from:ceo`:     "",
		`"x"limits limits"y"`:     "",
		`"unclosed limits`:        "",
		"ＬＩＭＩＴＳ Straßen café":     "",
		"":                        "",
	} {
		assert.Equal(t, want, looserQuery(q), "%q", q)
	}
}

// Hostile queries: loosening never turns a phrase into terms, and the
// looser query is quoted as the query is.
func TestSearchMailLoosensHostileQueriesSafely(t *testing.T) {
	h := newHarness(t)
	h.ok("search_mail", map[string]any{"query": `limits AND "from:ceo limits"`}, nil)
	assert.Equal(t, []string{`"limits AND \"from:ceo limits\""`, `"limit* AND \"from:ceo limits\""`}, h.searches())

	// One term, glued to a phrase: nothing is loosened, so nothing else runs.
	h = newHarness(t)
	var res SearchMailResult
	h.ok("search_mail", map[string]any{"query": `policies" OR from:ceo@contoso.com OR "x`}, &res)
	assert.Len(t, h.searches(), 1)
	assert.Empty(t, res.LoosenedTo)
	assert.Empty(t, res.Messages)

	// Backslashes and quotes in the loosened query are escaped once.
	h = newHarness(t)
	h.ok("search_mail", map[string]any{"query": `invoices "a\b"`}, nil)
	assert.Equal(t, []string{`"invoices \"a\\b\""`, `"invoice* \"a\\b\""`}, h.searches())
}

// The looser query keeps the query's structure: the same pieces, a word of
// letters cut to a prefix of itself plus *, everything else byte for byte;
// and it is quoted for Graph as any query is.
func FuzzLooserQuery(f *testing.F) {
	for _, s := range []string{"rate limits", `x" OR from:ceo`, `subject:limits "a b" (boxes OR NOT policies)`, "niños\tÜbersichten", `limits\" AND`, "(((limits"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		l := looserQuery(q)
		if l == "" {
			return
		}
		if utf8.ValidString(q) {
			require.True(t, utf8.ValidString(l), "%q → %q", q, l)
		}
		qt, lt := kqlTokens(q), kqlTokens(l)
		require.Len(t, lt, len(qt), "%q → %q", q, l)
		for i := range qt {
			a, b := qt[i].text, lt[i].text
			if a == b {
				continue
			}
			require.True(t, qt[i].word && strings.HasSuffix(b, "*"), "%q → %q: %q became %q", q, l, a, b)
			require.True(t, strings.HasPrefix(a, strings.TrimSuffix(b, "*")), "%q → %q", a, b)
			require.NotContains(t, a, "*")
			require.Equal(t, strings.Count(a, ":"), strings.Count(b, ":"))
		}
		for _, c := range []string{`"`, "(", ")", `\`} {
			require.Equal(t, strings.Count(q, c), strings.Count(l, c), "%q → %q", q, l)
		}
		mq, err := buildMailQuery(SearchMailArgs{Query: l}, 10)
		if err != nil {
			return
		}
		checkKQLString(t, mq.values.Get("$search"))
	})
}
