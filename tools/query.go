package tools

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Everything from a tool argument passes through one of these before it
// reaches a URL path (url.PathEscape), a KQL query or an OData literal.

// odataString quotes s as an OData string literal: a ' inside is doubled.
func odataString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// kqlEscape escapes s for use inside the double-quoted $search expression.
func kqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// kqlValue is a KQL property value: bare when it is one plain token,
// otherwise a phrase in quotes. A quote inside would end the phrase early,
// so it is dropped (it cannot matter to a match on a name).
func kqlValue(s string) string {
	if plainToken.MatchString(s) {
		return s
	}
	return `"` + strings.Join(strings.Fields(strings.ReplaceAll(s, `"`, " ")), " ") + `"`
}

var plainToken = regexp.MustCompile(`^[\p{L}\p{N}@._+-]+$`)

// searchExpr builds the $search value: the clauses ANDed, escaped once, in
// the double quotes Graph requires.
func searchExpr(clauses []string) string {
	return `"` + kqlEscape(strings.Join(clauses, " AND ")) + `"`
}

// simpleAddress accepts a bare email address (what OData and KQL can
// compare against), rejecting display names and anything exotic.
var simpleAddress = regexp.MustCompile(`^[A-Za-z0-9.!#$%&*+/=?^_{|}~'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

// parseRecipient accepts "a@b.com" or "Name <a@b.com>".
func parseRecipient(arg, s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || !simpleAddress.MatchString(a.Address) {
		return nil, argError(arg, "%q is not an email address (use name@example.com or \"Name <name@example.com>\")", s)
	}
	return a, nil
}

// parseTime accepts RFC 3339, a wall-clock time in loc (seconds
// optional), or a date alone (midnight in loc).
func parseTime(arg, s string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, false, nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, argError(arg, "%q is not a date (2026-11-25) or RFC 3339 time (2026-11-25T09:00:00Z)", s)
}

// cursor continues a listing. Rather than carrying Graph's whole nextLink
// (hundreds of characters the model would read and repeat), it carries the
// listing's arguments and only the paging options the nextLink advanced
// ($skip, $skiptoken). The next request is rebuilt from those: the path and
// every other option come from the arguments, checked as on a first call,
// so a forged cursor can page, never reach another path, user or option.
// It needs no key: it stays valid across restarts and replicas.
//
// When the response budget stops an answer before the end of a Graph
// page, the cursor resumes on that same page: Shown counts the items of
// the page already shown, which the next call drops.
type cursor struct {
	Tool  string          `json:"t"`
	Args  json.RawMessage `json:"a"`
	Page  url.Values      `json:"s,omitempty"` // the paging options of the nextLink
	Shown int             `json:"n,omitempty"` // items of that page already shown
	// Looser: the listing is of the looser form of its arguments' query,
	// which search_mail ran when the query itself found nothing
	// (searchhelp.go). It is derived from the arguments again, never
	// carried: a cursor still cannot hold a query of its own.
	Looser bool `json:"l,omitempty"`
}

// maxShown bounds Shown: Graph pages hold at most 1000 items.
const maxShown = 1000

// pagingOptions are the only query options a cursor may set, each with
// the check its value must pass.
var pagingOptions = map[string]*regexp.Regexp{
	"$skip":      regexp.MustCompile(`^[0-9]{1,9}$`),
	"$skiptoken": regexp.MustCompile(`^[!-~]+$`), // opaque (directory tokens hold quotes); re-encoded on the way out
}

// maxCursor bounds a cursor argument: ours are about 100 characters.
const maxCursor = 4096

// newCursor encodes the continuation of a listing whose first request was
// path?first; "" when Graph gave no nextLink or one this server could not
// rebuild.
func newCursor(tool string, args any, path string, first url.Values, nextLink string) string {
	return cursor{Tool: tool}.next(args, first, nextLink)
}

// next encodes the continuation of c's listing (its tool and form) whose
// first request had the options first.
func (c cursor) next(args any, first url.Values, nextLink string) string {
	u, err := url.Parse(nextLink)
	if nextLink == "" || err != nil || u.Scheme+"://"+u.Host+"/v1.0" != graphV1 {
		return ""
	}
	c.Page, c.Shown = url.Values{}, 0
	c.Args, _ = json.Marshal(args)
	for k, v := range u.Query() {
		if _, ok := pagingOptions[k]; ok && !slices.Equal(first[k], v) {
			c.Page[k] = v
		}
	}
	if len(c.Page) == 0 || c.check() != nil {
		return "" // no paging option advanced: following it would repeat the page
	}
	data, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(data)
}

// check refuses paging options a listing of this server never produces.
func (c *cursor) check() error {
	if c.Shown < 0 || c.Shown > maxShown {
		return errors.New("not a count of items")
	}
	for k, v := range c.Page {
		valid, ok := pagingOptions[k]
		if !ok || len(v) != 1 || len(v[0]) > 2048 || !valid.MatchString(v[0]) {
			return errors.New("not a paging option")
		}
	}
	return nil
}

// openCursor decodes a cursor of tool into args, which hold the call's own
// arguments: they must be blank (only the cursor given) or those of the
// listing (a different limit is ignored: the page size is part of the
// listing). The listing's arguments are checked as a call's are.
func openCursor[T any](tool, s string, args *T) (*cursor, error) {
	var c cursor
	var listing T
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(s) <= maxCursor {
		err = strictJSON(data, &c)
	}
	if err == nil && c.Tool == tool {
		err = strictJSON(c.Args, &listing)
	}
	if err == nil && c.Tool == tool {
		err = c.check()
	}
	if err == nil && c.Tool == tool {
		err = checkBounds(&listing)
	}
	if err != nil || c.Tool != tool {
		return nil, argError("cursor", "is not a cursor of %s: pass next_cursor exactly as %s returned it, or omit it to start over", tool, tool)
	}
	given, want := listingKey(*args), listingKey(listing)
	if len(given) > 0 && !maps.Equal(given, want) {
		return nil, argError("cursor", "belongs to a listing with other arguments: repeat the same arguments with it, or omit it to start a new listing")
	}
	*args = listing
	return &c, nil
}

// strictJSON decodes data into v, refusing unknown fields and trailing data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// listingKey is what identifies a listing: its arguments but the paging ones.
func listingKey(args any) map[string]string {
	data, _ := json.Marshal(args)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(data, &m)
	out := map[string]string{}
	for k, v := range m {
		if k != "cursor" && k != "limit" {
			out[k] = string(v)
		}
	}
	return out
}

// listing returns the arguments of the listing a call continues (the
// call's own when token, its cursor, is empty) and the decoded cursor.
func listing[T any](tool string, in T, token string) (T, *cursor, error) {
	if token == "" {
		return in, nil, nil
	}
	c, err := openCursor(tool, token, &in)
	return in, c, err
}

// listStop lets the budget stop a listing before the end of the Graph
// page it shows (see budget.go): raw holds, for each item shown, its
// index in that page; resume is the cursor that continues at an index.
type listStop struct {
	raw    []int
	resume func(i int) string
}

// stopper returns the listStop of a listing of tool with args, on the
// page cur (nil: the first page) asked for.
func (c *cursor) stopper(tool string, args any) listStop {
	return listStop{resume: func(i int) string {
		next := cursor{Tool: tool, Shown: i}
		if c != nil {
			next.Page, next.Shown, next.Looser = c.Page, c.Shown+i, c.Looser
		}
		next.Args, _ = json.Marshal(args)
		data, _ := json.Marshal(next)
		return base64.RawURLEncoding.EncodeToString(data)
	}}
}

// unseen drops the items of a page a previous answer already showed.
func unseen[T any](c *cursor, items []T) []T {
	if c == nil {
		return items
	}
	return items[min(c.Shown, len(items)):]
}

// stopEarly drops the last of items and points next at it: a list's
// shrink (see budget.go). It keeps at least one item.
func stopEarly[T any](items *[]T, s listStop, next *string) bool {
	n := len(*items) - 1
	if n < 1 || len(s.raw) <= n || s.resume == nil {
		return false
	}
	*items, *next = (*items)[:n], s.resume(s.raw[n])
	return true
}

// link is the next page's request: the listing's first request with the
// cursor's paging options; "" for no cursor (the first page).
func (c *cursor) link(path string, first url.Values) string {
	if c == nil {
		return ""
	}
	q := maps.Clone(first)
	maps.Copy(q, c.Page)
	return graphV1 + path + "?" + nango.EncodeQuery(q)
}

// itemID checks an id or folder argument (what names the kind of id): the
// one check for everything that becomes a segment of a Graph path. Ids are
// opaque, but every Outlook id and well-known folder name is a base64-like
// token. Anything else is refused, above all what a proxy on the way could
// resolve to another segment: ".", "..", a dot part between slashes, or
// percent-encoded dots (a proxy decodes before it resolves, so escaping
// the segment is not enough).
func itemID(arg, what, s string) (string, error) {
	id := strings.TrimSpace(s)
	switch {
	case id == "":
		return "", argError(arg, "is required")
	case len(id) > maxIDLength:
		return "", argError(arg, "is too long to be %s", what)
	case !idChars.MatchString(id) || hasDotSegment(id):
		return "", argError(arg, "%s is not %s: pass ids back exactly as a tool returned them", quoteShort(id), what)
	}
	return id, nil
}

const maxIDLength = 512

// idChars are the characters of Outlook ids (standard and URL-safe base64)
// and well-known folder names.
var idChars = regexp.MustCompile(`^[A-Za-z0-9+/=_.-]+$`)

// hasDotSegment reports whether a part of s between slashes is "." or "..".
func hasDotSegment(s string) bool {
	for part := range strings.SplitSeq(s, "/") {
		if part == "." || part == ".." {
			return true
		}
	}
	return false
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string { return fmt.Sprintf("%q", short(s)) }

// short cuts text from an argument to a length fit to echo in an error.
func short(s string) string {
	if len(s) > 60 {
		return strings.ToValidUTF8(s[:60], "") + "…"
	}
	return s
}

// oneLine collapses white space and cuts s to at most n runes, for previews.
// It runs for every message of every listing, so it makes one pass and one
// string; oneLineRunes is the same for text that is not valid UTF-8.
func oneLine(s string, n int) string {
	if !utf8.ValidString(s) {
		return oneLineRunes(s, n)
	}
	var b strings.Builder
	b.Grow(len(s))
	// cut: the end of the first n-1 runes in b; word: where the word being
	// read starts in s (-1 between words). Words are copied whole.
	runes, cut, word := 0, 0, -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if word >= 0 {
				b.WriteString(s[word:i])
				word = -1
			}
			continue
		}
		if word < 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
				if runes++; runes == n-1 {
					cut = b.Len()
				}
			}
			word = i
		}
		if runes++; runes == n-1 {
			cut = b.Len() + i + utf8.RuneLen(r) - word
		}
	}
	if word >= 0 {
		b.WriteString(s[word:])
	}
	if runes > n {
		return strings.TrimRight(b.String()[:cut], " ") + "…"
	}
	return b.String()
}

// preview is s on one line, at most n runes, for a list: link targets
// ("<https://…>", whole or cut short by Graph's preview) dropped, since a
// preview is for choosing what to read and get_message has the links,
// and cut between words.
func preview(s string, n int) string {
	s = oneLine(linkTarget.ReplaceAllString(s, ""), math.MaxInt)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := string([]rune(s)[:n-1])
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ") + "…"
}

var linkTarget = regexp.MustCompile(`\s*<(?:https?|mailto):[^>\s]*>?`)

// oneLineRunes is oneLine by the definition: each byte of invalid UTF-8
// becomes U+FFFD in a text that is cut.
func oneLineRunes(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return strings.TrimSpace(string(r[:n-1])) + "…"
	}
	return s
}
