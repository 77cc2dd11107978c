package tools

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileIDs are values of an id argument that would change the meaning of
// a Graph path: dot segments (plain, inside slashes, percent-encoded, which
// a proxy decodes before it resolves them), query and fragment starts,
// Nango's interpolation, control characters.
var hostileIDs = []string{
	".", "..", " .. ", "./x", "x/..", "a/../b", "../../me/sendMail", "inbox/../../../users",
	"%2e", "%2e%2e", ".%2E", "%2E%2e%2fusers", "x%2F..%2Fy", `a\..\b`,
	"a?b=1", "a#b", "a&b", "${secret}", "AAMk\x00AAA=", "AAMk AAA=", "users/victim@example.com",
	strings.Repeat("A", 600),
}

// pathArguments lists every argument that becomes a Graph path segment,
// with the other arguments its tool needs to get as far as building it.
var pathArguments = []struct {
	tool, arg string
	others    map[string]any
}{
	{"get_message", "id", nil},
	{"list_attachments", "message_id", nil},
	{"read_attachment", "message_id", map[string]any{"attachment_id": "AAMkAtt="}},
	{"read_attachment", "attachment_id", map[string]any{"message_id": "AAMkMsg="}},
	{"reply_to_message", "message_id", map[string]any{"body": "ok"}},
	{"forward_message", "message_id", map[string]any{"to": []string{"ann@contoso.com"}}},
	{"send_draft", "draft_id", nil},
	{"get_thread", "message_id", nil},
	{"get_thread", "conversation_id", nil},
	{"move_message", "message_id", map[string]any{"destination": "archive"}},
	{"move_message", "destination", map[string]any{"message_id": "AAMkMsg="}},
	{"update_message", "message_id", map[string]any{"is_read": true}},
	{"delete_message", "message_id", nil},
	{"search_mail", "folder", nil},
	{"list_mail_folders", "parent_folder", nil},
	{"list_events", "calendar_id", map[string]any{"start": "2026-11-25", "end": "2026-11-26"}},
	{"get_event", "event_id", nil},
	{"create_event", "calendar_id", map[string]any{"subject": "s", "start": "2026-11-25T10:00", "end": "2026-11-25T11:00"}},
	{"update_event", "event_id", map[string]any{"subject": "s"}},
	{"cancel_event", "event_id", nil},
	{"respond_to_event", "event_id", map[string]any{"response": "accept"}},
	{"get_contact", "contact_id", nil},
}

func TestEveryPathArgumentIsOneSegmentOrRefused(t *testing.T) {
	h := newHarness(t)
	for _, pa := range pathArguments {
		for _, bad := range hostileIDs {
			args := maps.Clone(pa.others)
			if args == nil {
				args = map[string]any{}
			}
			args[pa.arg] = bad
			msg := h.fails(pa.tool, args)
			assert.Contains(t, msg, fmt.Sprintf("Invalid argument %q", pa.arg), "%s %s=%q", pa.tool, pa.arg, bad)
			assert.Less(t, len(msg), 300, "the error does not echo a long value in full")
		}
		// Blank is missing, not the collection.
		for _, blank := range []string{"", "  "} {
			args := maps.Clone(pa.others)
			if args == nil {
				args = map[string]any{}
			}
			args[pa.arg] = blank
			if pa.arg == "folder" || pa.arg == "parent_folder" || pa.arg == "calendar_id" {
				continue // optional: blank means the default
			}
			assert.Contains(t, h.fails(pa.tool, args), "is required", "%s %s=%q", pa.tool, pa.arg, blank)
		}
	}
	assert.Empty(t, h.graph("/"), "no refused argument reaches Graph")

	// Real ids (standard base64 included) go through, one escaped segment.
	h.fails("get_message", map[string]any{"id": "AAMk/x+y=="})
	assert.Equal(t, "/v1.0/me/messages/AAMk%2Fx+y==", h.lastGraph("/v1.0/me/messages/").RawPath)
}

func TestEveryArgumentIsBoundedBeforeGraph(t *testing.T) {
	// Each string or list argument of every tool, one at a time, just past
	// the largest bound there is: binding refuses it, naming it, before the
	// handler (which would need a connection) runs.
	for _, tool := range All() {
		var schema struct {
			Properties map[string]struct {
				Type  string `json:"type"`
				Items *struct {
					Type string `json:"type"`
				} `json:"items"`
			} `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(tool.inputSchema, &schema))
		for name, p := range schema.Properties {
			var tries []any
			switch {
			case p.Type == "string":
				// Past the default, past comments' bound, past bodies'.
				tries = []any{strings.Repeat("x", 1001), strings.Repeat("x", 100_001), strings.Repeat("x", 1<<20+1)}
			case p.Type == "array" && p.Items != nil && p.Items.Type == "string":
				tries = []any{make([]string, 501)}
			case p.Type == "array" && p.Items != nil && p.Items.Type == "object":
				tries = []any{make([]map[string]any, 501)}
			default:
				continue
			}
			var err error
			for _, value := range tries {
				raw, _ := json.Marshal(map[string]any{name: value})
				if err = decodeArgs(raw, tool.required, tool.newArgs()); err != nil && !strings.Contains(err.Error(), "is required") {
					break
				}
			}
			require.Error(t, err, "%s.%s", tool.Name, name)
			assert.Contains(t, err.Error(), fmt.Sprintf("Invalid argument %q", name), "%s.%s", tool.Name, name)
			assert.Regexp(t, `too long|too many`, err.Error(), "%s.%s", tool.Name, name)
		}
	}
	h := newHarness(t)
	// Nested and embedded arguments are named by their path.
	msg := h.fails("send_mail", map[string]any{"to": []string{"a@b.com"}, "subject": "s", "body": "b",
		"attachments": []map[string]any{{"name": strings.Repeat("n", 256), "content_base64": "aGk="}}})
	assert.Contains(t, msg, `Invalid argument "attachments[0].name": is too long: at most 255 characters`)
	msg = h.fails("create_event", map[string]any{"subject": "s", "start": "2026-11-25T10:00", "end": "2026-11-25T11:00",
		"attendees": []map[string]any{{"address": strings.Repeat("a", 1001)}}})
	assert.Contains(t, msg, `Invalid argument "attendees[0].address"`)
	// Characters, not bytes: 1,000 three-byte characters are a valid subject.
	msg = h.fails("send_mail", map[string]any{"to": []string{"a@b.com"}, "subject": strings.Repeat("€", 1001), "body": "b"})
	assert.Contains(t, msg, `Invalid argument "subject": is too long: at most 1000 characters`)
	assert.Empty(t, h.graph("/"), "nothing beyond its bound reaches Graph")
	h.ok("create_draft", map[string]any{"subject": strings.Repeat("€", 1000), "body": strings.Repeat("b", 1<<20)}, nil)
}

// forge re-encodes a cursor after f changed its JSON.
func forge(t *testing.T, token string, f func(map[string]any)) string {
	data, err := base64.RawURLEncoding.DecodeString(token)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	f(m)
	data, err = json.Marshal(m)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(data)
}

func TestForgedCursorsAreRefused(t *testing.T) {
	h := newHarness(t)
	var first SearchMailResult
	h.ok("search_mail", map[string]any{"folder": "inbox", "limit": 2}, &first)
	require.NotEmpty(t, first.NextCursor)
	before := len(h.graph("/"))

	for name, forged := range map[string]string{
		"another user's mailbox": forge(t, first.NextCursor, func(m map[string]any) { m["p"] = "/users/victim@example.com/messages" }),
		"another API version":    forge(t, first.NextCursor, func(m map[string]any) { m["p"] = "/../beta/me/messages" }),
		"an encoded way out":     forge(t, first.NextCursor, func(m map[string]any) { m["p"] = "/me/mailFolders/%2e%2e/%2e%2e/users/victim@example.com/messages" }),
		"an added query option": forge(t, first.NextCursor, func(m map[string]any) {
			m["s"] = map[string]any{"$skip": []string{"2"}, "$filter": []string{"true"}}
		}),
		"a paging option with a query inside": forge(t, first.NextCursor, func(m map[string]any) {
			m["s"] = map[string]any{"$skip": []string{"2&$expand=attachments"}}
		}),
		"a dropped filter":      forge(t, first.NextCursor, func(m map[string]any) { m["u"] = []string{"$select"} }),
		"a folder escaping":     forge(t, first.NextCursor, func(m map[string]any) { m["a"] = map[string]any{"folder": "../../users/victim"} }),
		"an oversized argument": forge(t, first.NextCursor, func(m map[string]any) { m["a"] = map[string]any{"query": strings.Repeat("q", 1001)} }),
		"an unknown argument":   forge(t, first.NextCursor, func(m map[string]any) { m["a"] = map[string]any{"user": "victim"} }),
		"another tool's":        forge(t, first.NextCursor, func(m map[string]any) { m["t"] = "list_events" }),
		"not base64":            "%%%",
		"not JSON":              base64.RawURLEncoding.EncodeToString([]byte("{")),
		"trailing data":         base64.RawURLEncoding.EncodeToString([]byte(`{"t":"search_mail","a":{}} {}`)),
		"too long":              strings.Repeat("A", maxCursor+4),
	} {
		msg := h.fails("search_mail", map[string]any{"cursor": forged})
		if name == "a folder escaping" {
			// Its arguments are checked as a first call's: the folder is named.
			assert.Contains(t, msg, `Invalid argument "folder"`, name)
			continue
		}
		assert.Contains(t, msg, `Invalid argument "cursor"`, name)
	}
	assert.Len(t, h.graph("/"), before, "a forged cursor never reaches Graph")

	// The genuine cursor still works, and so does one with another offset:
	// paging is all a cursor can do.
	var second SearchMailResult
	h.ok("search_mail", map[string]any{"cursor": first.NextCursor}, &second)
	require.NotEmpty(t, second.Messages)
	r := h.lastGraph("/v1.0/me/mailFolders/inbox/")
	assert.Equal(t, "/v1.0/me/mailFolders/inbox/messages", r.Path)
	assert.Equal(t, "2", r.Query.Get("$skip"))
	assert.Equal(t, "2", r.Query.Get("$top"))
}

func FuzzCursor(f *testing.F) {
	f.Add("search_mail", `{"folder":"inbox"}`, "$skip", "10")
	f.Add("search_mail", `{"query":"budget"}`, "$skiptoken", "RFNwdAIAAQAAAB")
	f.Add("list_events", `{"start":"2026-11-25","end":"2026-11-26"}`, "$skip", "1")
	f.Add("search_mail", `{"folder":"../../users/x"}`, "$top", "1000")
	f.Fuzz(func(t *testing.T, tool, args, key, value string) {
		c := cursor{Tool: tool, Args: json.RawMessage(args)}
		c.Page = map[string][]string{key: {value}}
		data, err := json.Marshal(c)
		if err != nil {
			return
		}
		token := base64.RawURLEncoding.EncodeToString(data)
		for _, raw := range []string{token, args} { // a cursor, and garbage as a cursor
			var in SearchMailArgs
			got, cur, err := listing("search_mail", in, raw)
			if err != nil {
				continue
			}
			q, err := buildMailQuery(got, 10)
			if err != nil {
				continue
			}
			link := cur.link(q.path, q.values)
			// Whatever the cursor held, the request stays a page of a mail
			// listing of this user, with the listing's own options.
			require.True(t, strings.HasPrefix(link, graphV1+"/me/"), link)
			path, query, _ := strings.Cut(strings.TrimPrefix(link, graphV1), "?")
			require.Regexp(t, `^/me/(messages|mailFolders/[A-Za-z0-9+%=_.-]+/messages)$`, path)
			require.NotContains(t, path, "..")
			for _, kv := range strings.Split(query, "&") {
				k, _, _ := strings.Cut(kv, "=")
				require.Contains(t, []string{"$select", "$top", "$search", "$filter", "$orderby", "$skip", "$skiptoken"}, k, link)
			}
		}
	})
}

func FuzzItemID(f *testing.F) {
	for _, s := range hostileIDs {
		f.Add(s)
	}
	f.Add("AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQAuAAAAAADDx0pZ3Wt1vTqG8kY2bN4QhAQBCk7Hq2yR9uS5aT0dLmVw3xAAAAAAEMAAAA=")
	f.Add("inbox")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := itemID("id", "an id", s)
		if err != nil {
			return
		}
		// What passes stays one segment, whatever a proxy decodes or
		// resolves on the way: no dot segment, no escape, no query.
		seg := messagePath(id)[len("/me/messages/"):]
		require.NotContains(t, seg, "/")
		require.NotContains(t, seg, "%25")
		require.NotContains(t, id, "%")
		require.NotContains(t, id, "?")
		require.NotContains(t, id, "#")
		for part := range strings.SplitSeq(id, "/") {
			require.NotEqual(t, ".", part)
			require.NotEqual(t, "..", part)
		}
	})
}

func FuzzDecodeArgs(f *testing.F) {
	f.Add(`{"to":["a@b.com"],"subject":"s","body":"b","attachments":[{"name":"a.pdf","content_base64":"aGk="}]}`)
	f.Add(`{"subject":"s","start":"2026-11-25T10:00","end":"2026-11-25","attendees":[{"address":"a@b.com"}],"is_all_day":true}`)
	f.Add(`{"message_id":"x","categories":[],"is_read":"yes"}`)
	f.Add(`{"to":null,"":1,"subject":1e400}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, raw string) {
		// Whatever arrives, decoding answers with a value or an argument
		// error, and a value it accepts is within every bound.
		check := func(v any, required []string) {
			err := decodeArgs(json.RawMessage(raw), required, v)
			if err != nil {
				var in *inputError
				require.ErrorAs(t, err, &in)
				return
			}
			require.NoError(t, checkBounds(v))
		}
		check(new(SendMailArgs), []string{"to", "subject", "body"})
		check(new(CreateEventArgs), []string{"subject", "start", "end"})
		check(new(UpdateMessageArgs), []string{"message_id"})
	})
}

func FuzzMailQuery(f *testing.F) {
	f.Add("budget", "ann", "inbox", "2026-11-01", false)
	f.Add(`x" OR subject:"y`, "o'brien@contoso.com", "", "", true)
	f.Add(`\"\\`, `a" b`, "..", "2026-11-01T00:00:00Z", false)
	f.Add("", "o'brien@contoso.com", "AAMk/x=", "", true)
	f.Fuzz(func(t *testing.T, query, from, folder, after string, unread bool) {
		q, err := buildMailQuery(SearchMailArgs{Query: query, From: from, Folder: folder, ReceivedAfter: after, UnreadOnly: unread}, 10)
		if err != nil {
			var in *inputError
			require.ErrorAs(t, err, &in)
			return
		}
		require.Regexp(t, `^/me/(messages|mailFolders/[A-Za-z0-9+%=_.-]+/messages)$`, q.path)
		search, filter := q.values.Get("$search"), q.values.Get("$filter")
		require.False(t, search != "" && (filter != "" || q.values.Has("$orderby")), "Graph refuses $search with $filter or $orderby")
		if search != "" {
			checkKQLString(t, search)
		}
		// Every OData literal is closed: doubled quotes aside, quotes pair up.
		require.Zero(t, strings.Count(strings.ReplaceAll(filter, "''", ""), "'")%2, filter)
	})
}

// checkKQLString checks a $search value is one KQL string: quoted at both
// ends, every quote inside escaped.
func checkKQLString(t *testing.T, search string) {
	t.Helper()
	require.True(t, len(search) >= 2 && search[0] == '"' && search[len(search)-1] == '"', search)
	inner := search[1 : len(search)-1]
	for i := 0; i < len(inner); i++ {
		switch inner[i] {
		case '\\':
			i++ // the escaped character
			require.Less(t, i, len(inner), "a trailing backslash would escape the closing quote: %s", search)
		case '"':
			t.Fatalf("an unescaped quote ends the KQL string early: %s", search)
		}
	}
}

// oneLine's single pass gives what its definition (oneLineRunes) gives.
func TestOneLineIsItsDefinition(t *testing.T) {
	pieces := []string{"a", "b", "é", "😀", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\x85", "\xff", "\xe2\x80", "…"}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s, n := b.String(), 1+rng.IntN(8)
		require.Equal(t, oneLineRunes(s, n), oneLine(s, n), "oneLine(%q, %d)", s, n)
	}
	long := strings.Repeat("Hello  world,\n\tthis is  a preview. ", 10)
	assert.Equal(t, oneLineRunes(long, 100), oneLine(long, 100))
	assert.Len(t, []rune(oneLine(long, 100)), 100)
}

func BenchmarkOneLine(b *testing.B) {
	preview := strings.Repeat("Hi team,\r\n\r\nThe quarterly numbers are in: revenue is up ", 6)[:255]
	b.ReportAllocs()
	for b.Loop() {
		oneLine(preview, 160)
	}
}

func BenchmarkOneLineRunes(b *testing.B) {
	preview := strings.Repeat("Hi team,\r\n\r\nThe quarterly numbers are in: revenue is up ", 6)[:255]
	b.ReportAllocs()
	for b.Loop() {
		oneLineRunes(preview, 160)
	}
}

func TestEveryIntegerOutOfItsSchemaRangeIsRefused(t *testing.T) {
	// Each integer argument of every tool, just outside the range its
	// schema declares: refused by name with the range, before the handler.
	// limit: 0 included, which decodes like an omitted limit.
	checked := 0
	for _, tool := range All() {
		var schema struct {
			Properties map[string]struct {
				Type    string `json:"type"`
				Minimum *int   `json:"minimum"`
				Maximum *int   `json:"maximum"`
			} `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(tool.inputSchema, &schema))
		for name, p := range schema.Properties {
			if p.Type != "integer" {
				continue
			}
			var outside []int
			if p.Minimum != nil {
				outside = append(outside, *p.Minimum-1)
			}
			if p.Maximum != nil {
				outside = append(outside, *p.Maximum+1)
			}
			for _, n := range outside {
				raw, _ := json.Marshal(map[string]any{name: n})
				err := decodeArgs(raw, tool.required, tool.newArgs())
				require.Error(t, err, "%s.%s = %d", tool.Name, name, n)
				assert.Contains(t, err.Error(), fmt.Sprintf("Invalid argument %q: must be", name), "%s.%s = %d", tool.Name, name, n)
				assert.Contains(t, err.Error(), fmt.Sprintf("not %d", n), "%s.%s", tool.Name, name)
				checked++
			}
		}
	}
	assert.Greater(t, checked, 15)

	h := newHarness(t)
	for _, tool := range []string{"search_mail", "list_events", "find_contacts", "list_mail_folders"} {
		msg := h.fails(tool, map[string]any{"limit": 0})
		assert.Regexp(t, `Invalid argument "limit": must be between 1 and \d+, not 0`, msg, tool)
	}
	assert.Empty(t, h.graph("/"), "nothing out of range reaches Graph")
	var mail SearchMailResult
	h.ok("search_mail", map[string]any{}, &mail)
	assert.Len(t, mail.Messages, 10, "an omitted limit is still the default")
}
