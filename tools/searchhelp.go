package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// An empty search_mail answer says what ran, why it may have found
// nothing, and what to try next. When the query has words in an inflected
// form, search_mail first runs its looser form once, by itself: Exchange
// matches a term against the start of words, so "limits" never finds
// "limit", while "limit*" finds limit, limits and limiting. That is one
// more Graph request, made only when the first found nothing; whatever it
// finds is labelled as matches of the looser query, never as exact ones.
// Fewer terms, no sender, wider dates or another folder change what is
// asked rather than how it is spelt: those are only suggested.

// looserQuery is the query with each inflected word cut to its stem and
// KQL's prefix wildcard: "rate limits" → "rate limit*". Only bare words of
// letters change (free text, or the value of subject:, body: or
// attachment:); phrases in quotes, operators, names, dates and anything
// with other characters are kept byte for byte, so the looser query has
// the structure of the query and goes through the same quoting. "" when
// no word changes.
func looserQuery(query string) string {
	var b strings.Builder
	changed := false
	for _, tok := range kqlTokens(query) {
		if tok.word {
			if prop, value, ok := strings.Cut(tok.text, ":"); ok && stemmedProps[strings.ToLower(prop)] {
				if s, ok := stem(value); ok {
					b.WriteString(prop + ":" + s + "*")
					changed = true
					continue
				}
			} else if !ok {
				if s, ok := stem(tok.text); ok {
					b.WriteString(s + "*")
					changed = true
					continue
				}
			}
		}
		b.WriteString(tok.text)
	}
	if !changed {
		return ""
	}
	return b.String()
}

// stemmedProps are the KQL properties whose values are words of a text.
var stemmedProps = map[string]bool{"subject": true, "body": true, "attachment": true}

// kqlToken is a piece of a query: a run of white space or parentheses, a
// phrase in quotes, or a term between them. word marks a term that stands
// alone (not glued to a phrase, as subject:"Q4 plan" is).
type kqlToken struct {
	text string
	word bool
}

// kqlTokens splits a KQL query so that joining the tokens gives it back.
// A quote opens a phrase up to the next quote, or to the end when none
// closes it: nothing inside a phrase is ever a term.
func kqlTokens(q string) []kqlToken {
	var out []kqlToken
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case r == '"':
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				out = append(out, kqlToken{text: q[i:]})
				return out
			}
			out = append(out, kqlToken{text: q[i : i+end+2]})
			i += end + 2
		case isKQLSpace(r):
			out = append(out, kqlToken{text: q[i : i+size]})
			i += size
		default:
			j := i
			for j < len(q) {
				r, size := utf8.DecodeRuneInString(q[j:])
				if r == '"' || isKQLSpace(r) {
					break
				}
				j += size
			}
			glued := (j < len(q) && q[j] == '"') || (i > 0 && q[i-1] == '"')
			out = append(out, kqlToken{text: q[i:j], word: !glued})
			i = j
		}
	}
	return out
}

func isKQLSpace(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == ')' }

// kqlOperators are KQL's operators: never a word to stem.
var kqlOperators = []string{"AND", "OR", "NOT", "NEAR", "ONEAR"}

// minStem is the shortest stem worth a wildcard: "rat*" or "th*" would
// find far more than the word meant.
const minStem = 4

// stem cuts an English inflection from a word of letters: limits → limit,
// policies → polic, boxes → box, limiting → limit, planned → plan. ok is
// false when the word is not all letters, is an operator, has no such
// ending, or its stem would be shorter than minStem.
func stem(word string) (string, bool) {
	if slices.Contains(kqlOperators, word) {
		return "", false
	}
	for _, r := range word {
		if !unicode.IsLetter(r) {
			return "", false
		}
	}
	s := word
	switch {
	case hasSuffixFold(s, "ies"):
		s = s[:len(s)-3]
	case hasSuffixFold(s, "sses"), hasSuffixFold(s, "xes"), hasSuffixFold(s, "ches"), hasSuffixFold(s, "shes"), hasSuffixFold(s, "zes"):
		s = s[:len(s)-2]
	case hasSuffixFold(s, "ss"), hasSuffixFold(s, "us"), hasSuffixFold(s, "is"):
		return "", false
	case hasSuffixFold(s, "s"):
		s = s[:len(s)-1]
	case hasSuffixFold(s, "ing"):
		s = undouble(s[:len(s)-3])
	case hasSuffixFold(s, "ed"):
		s = undouble(s[:len(s)-2])
	default:
		return "", false
	}
	// A plural's stem may be a letter shorter: bugs → bug*, fees → fee*.
	if n := utf8.RuneCountInString(s); n < minStem-1 || (n < minStem && !hasSuffixFold(word, "s")) {
		return "", false
	}
	return s, true
}

// hasSuffixFold is strings.HasSuffix for an ASCII suffix, in any case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// undouble drops the doubled consonant an inflection added (plann → plan),
// not one the word has (bill, miss, buzz).
func undouble(s string) string {
	n := len(s)
	if n >= 2 && s[n-1] == s[n-2] && s[n-1] < utf8.RuneSelf && !strings.ContainsRune("aeiouylsz", unicode.ToLower(rune(s[n-1]))) {
		return s[:n-1]
	}
	return s
}

// queryTerms are the terms of a query that is a plain list of them (terms
// ANDed, without parentheses, OR or NOT); nil for any other query. A term
// glued to a phrase (subject:"Q4 plan") is one term.
func queryTerms(query string) []string {
	var terms []string
	term := ""
	for _, tok := range append(kqlTokens(query), kqlToken{text: " "}) {
		if r, _ := utf8.DecodeRuneInString(tok.text); !isKQLSpace(r) {
			term += tok.text
			continue
		}
		switch {
		case tok.text == "(" || tok.text == ")":
			return nil
		case term == "" || term == "AND":
		case slices.Contains(kqlOperators, term) || strings.HasPrefix(term, "-"):
			return nil
		default:
			terms = append(terms, term)
		}
		term = ""
	}
	return terms
}

// searchSuggestions are the next searches to try after args (whose query
// is the loosest that ran) found nothing: each relaxes one thing, in the
// order fewer terms, no sender, no dates, no folder, no read or
// attachment filter. Each is a whole argument set.
func searchSuggestions(args SearchMailArgs) []SearchMailArgs {
	args.Cursor = ""
	var out []SearchMailArgs
	add := func(s SearchMailArgs) {
		if s != args && s.Query+s.From+s.ReceivedAfter+s.ReceivedBefore+s.Folder != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if terms := queryTerms(args.Query); len(terms) > 1 {
		// the longest term: most often the topic, rather than a qualifier
		s := args
		s.Query = terms[0]
		for _, t := range terms[1:] {
			if utf8.RuneCountInString(t) > utf8.RuneCountInString(s.Query) {
				s.Query = t
			}
		}
		add(s)
	}
	if args.From != "" {
		s := args
		s.From = ""
		if s.Query == "" {
			s.Query = args.From // as free text it also finds mail that names them
		}
		add(s)
	}
	if args.ReceivedAfter != "" || args.ReceivedBefore != "" {
		s := args
		s.ReceivedAfter, s.ReceivedBefore = "", ""
		add(s)
	}
	if args.Folder != "" {
		s := args
		s.Folder = ""
		add(s)
	}
	if args.UnreadOnly || args.HasAttachments != nil {
		s := args
		s.UnreadOnly, s.HasAttachments = false, nil
		add(s)
	}
	return out[:min(len(out), maxSuggestions)]
}

// maxSuggestions bounds what an empty answer suggests: the first few
// relaxations are the likeliest, and each costs tokens.
const maxSuggestions = 4

// whyEmpty says why a search may have found nothing, from what it asked.
func whyEmpty(args SearchMailArgs) string {
	var why []string
	if args.Query != "" {
		why = append(why, "every term must match, each as a whole word or the start of one")
		if strings.Contains(args.Query, `"`) {
			why = append(why, "a quoted phrase must appear as written")
		}
	}
	switch from := strings.TrimSpace(args.From); {
	case from == "":
	case simpleAddress.MatchString(from):
		why = append(why, "from must be the sender's exact address")
	default:
		why = append(why, "from must start a word of the sender's name or address")
	}
	if args.Folder != "" {
		why = append(why, "only "+folderShown(args.Folder)+" was searched")
	}
	if args.ReceivedAfter != "" || args.ReceivedBefore != "" {
		why = append(why, "only the dates given were searched")
	}
	if args.UnreadOnly {
		why = append(why, "only unread mail counts")
	}
	if args.HasAttachments != nil {
		why = append(why, "the attachment filter applies")
	}
	return strings.Join(why, "; ")
}

// folderShown names the folder searched: a well-known name as it is, an
// id as "the folder given" (the model knows which; ids are long).
func folderShown(folder string) string {
	f := strings.ToLower(strings.TrimSpace(folder))
	switch {
	case f == "":
		return "all folders"
	case slices.Contains(wellKnownFolders, f):
		return f
	}
	return "the folder given"
}

// argsJSON is a suggestion as the arguments to pass.
func argsJSON(a SearchMailArgs) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(a)
	return strings.TrimSpace(b.String())
}

// searched is the head of search_mail's text: what ran, where, and how
// many it found; for an empty search also why and what to try.
func (r *SearchMailResult) searched() string {
	scope := " in " + r.where
	if r.Query != "" {
		scope = " for " + queryShown(r.Query) + scope
	}
	n := len(r.Messages)
	received := make([]string, n)
	for i, m := range r.Messages {
		received[i] = m.ReceivedAt
	}
	zone := r.zone.label(received...)
	switch {
	case n > 0 && r.LoosenedTo != "":
		matches := "matches"
		if n == 1 {
			matches = "match"
		}
		return fmt.Sprintf("No exact matches%s. Showing %d %s of the looser query %s instead, not exact matches (newest first, %s):\n", scope, n, matches, queryShown(r.LoosenedTo), zone)
	case n == 1:
		return "1 message" + scope + " (" + zone + "):\n"
	case n > 1:
		return fmt.Sprintf("%d messages%s, newest first (%s):\n", n, scope, zone)
	}
	var b strings.Builder
	b.WriteString("No messages" + scope)
	if r.LoosenedTo != "" {
		b.WriteString(", nor for the looser query " + queryShown(r.LoosenedTo))
	}
	b.WriteString(".")
	if r.why != "" {
		b.WriteString("\nWhy it may be empty: " + r.why + ".")
	}
	if len(r.Suggestions) > 0 {
		b.WriteString("\nTry search_mail with: " + strings.Join(r.Suggestions, " or "))
	}
	return b.String()
}

// idsShortened writes the suggestions from their arguments, whose folder
// ids may have become handles.
func (r *SearchMailResult) idsShortened() {
	r.Suggestions = r.Suggestions[:0]
	for _, a := range r.Tries {
		r.Suggestions = append(r.Suggestions, argsJSON(a))
	}
}

// queryShown is a query in the text: in backquotes, on one line, cut.
func queryShown(q string) string { return "`" + oneLine(q, 150) + "`" }
