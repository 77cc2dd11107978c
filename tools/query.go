package tools

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

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
// listing's arguments and only what the nextLink changes in the first
// request ($skip, $skiptoken): the link is rebuilt exactly from those.
type cursor struct {
	Tool  string          `json:"t"`
	Args  json.RawMessage `json:"a"`
	Path  string          `json:"p,omitempty"` // the nextLink's path, when Graph changed it
	Set   url.Values      `json:"s,omitempty"` // query options the nextLink added or changed
	Unset []string        `json:"u,omitempty"` // query options the nextLink dropped
}

// newCursor encodes the continuation of a listing whose first request was
// path?first; "" when Graph gave no nextLink.
func newCursor(tool string, args any, path string, first url.Values, nextLink string) string {
	u, err := url.Parse(nextLink)
	if nextLink == "" || err != nil || u.Scheme+"://"+u.Host+"/v1.0" != graphV1 {
		return ""
	}
	c := cursor{Tool: tool, Set: url.Values{}}
	c.Args, _ = json.Marshal(args)
	if p := strings.TrimPrefix(u.Path, "/v1.0"); p != path {
		c.Path = p
	}
	next := u.Query()
	for k, v := range next {
		if !slices.Equal(first[k], v) {
			c.Set[k] = v
		}
	}
	for k := range first {
		if _, ok := next[k]; !ok {
			c.Unset = append(c.Unset, k)
		}
	}
	slices.Sort(c.Unset)
	data, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(data)
}

// openCursor decodes a cursor of tool into args, which hold the call's own
// arguments: they must be blank (only the cursor given) or those of the
// listing (a different limit is ignored: the page size is part of the
// listing). pathPrefixes bound where a rebuilt link may point.
func openCursor[T any](tool, s string, args *T, pathPrefixes ...string) (*cursor, error) {
	var c cursor
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(data, &c)
	}
	var listing T
	if err == nil {
		err = json.Unmarshal(c.Args, &listing)
	}
	if err != nil || c.Tool != tool || (c.Path != "" && (!hasAnyPrefix(c.Path, pathPrefixes) || strings.Contains(c.Path, ".."))) {
		return nil, argError("cursor", "is not a cursor of %s: pass next_cursor exactly as %s returned it, or omit it to start over", tool, tool)
	}
	given, want := listingKey(*args), listingKey(listing)
	if len(given) > 0 && !maps.Equal(given, want) {
		return nil, argError("cursor", "belongs to a listing with other arguments: repeat the same arguments with it, or omit it to start a new listing")
	}
	*args = listing
	return &c, nil
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
func listing[T any](tool string, in T, token string, pathPrefixes ...string) (T, *cursor, error) {
	if token == "" {
		return in, nil, nil
	}
	c, err := openCursor(tool, token, &in, pathPrefixes...)
	return in, c, err
}

// link rebuilds Graph's nextLink from the listing's first request; "" for
// no cursor (the first page).
func (c *cursor) link(path string, first url.Values) string {
	if c == nil {
		return ""
	}
	if c.Path != "" {
		path = c.Path
	}
	q := url.Values{}
	for k, v := range first {
		if !slices.Contains(c.Unset, k) {
			q[k] = v
		}
	}
	maps.Copy(q, c.Set)
	return graphV1 + path + "?" + nango.EncodeQuery(q)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// itemID checks an Outlook id argument (what names the kind of id). Ids
// are opaque, so only what no id can be is refused: too long, or a dot
// segment, which path escaping leaves as it is.
func itemID(arg, what, s string) (string, error) {
	id := strings.TrimSpace(s)
	switch {
	case id == "":
		return "", argError(arg, "is required")
	case len(id) > 512:
		return "", argError(arg, "is too long to be %s", what)
	case strings.Trim(id, ".") == "":
		return "", argError(arg, "%q is not %s", id, what)
	}
	return id, nil
}

// oneLine collapses white space and cuts s to at most n runes, for previews.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return strings.TrimSpace(string(r[:n-1])) + "…"
	}
	return s
}
