package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/handles"
	"github.com/outlook-mcp/outlook-mcp/identity"
	"github.com/outlook-mcp/outlook-mcp/nango"
	"github.com/outlook-mcp/outlook-mcp/nango/redistest"
	"github.com/outlook-mcp/outlook-mcp/sim"
)

// graphIDShape is a Graph id as the simulator's fixtures spell them.
var graphIDShape = regexp.MustCompile(`AA[A-Za-z0-9_=+/-]{30,}`)

func TestResultsShowHandlesInTextAndStructuredContent(t *testing.T) {
	h := newHarness(t)
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"search_mail", map[string]any{"limit": 50}},
		{"list_mail_folders", nil},
		{"list_events", map[string]any{"start": "2026-11-23", "end": "2026-11-28"}},
		{"list_calendars", nil},
		{"find_contacts", map[string]any{"query": "a", "limit": 50}},
	} {
		res := h.call(call.tool, call.args)
		require.False(t, res.IsError, textOf(res))
		structured, err := json.Marshal(res.StructuredContent)
		require.NoError(t, err)
		assert.Empty(t, graphIDShape.FindString(textOf(res)), "%s text", call.tool)
		assert.Empty(t, graphIDShape.FindString(string(structured)), "%s structuredContent", call.tool)
	}

	var list SearchMailResult
	h.ok("search_mail", map[string]any{"limit": 50}, &list)
	i := slices.IndexFunc(list.Messages, func(m MessageSummary) bool { return m.Subject == q4Plan })
	require.GreaterOrEqual(t, i, 0)
	m := list.Messages[i]
	assert.True(t, handles.Valid(m.ID) && m.ID[0] == 'm', m.ID)
	assert.True(t, handles.Valid(m.ConversationID) && m.ConversationID[0] == 't', m.ConversationID)

	// get_message takes the handle or the full id, and shows the same handle.
	var byHandle, byID MessageResult
	text := h.ok("get_message", map[string]any{"id": m.ID}, &byHandle)
	h.ok("get_message", map[string]any{"id": h.graphID(m.ID)}, &byID)
	assert.Equal(t, m.ID, byHandle.ID)
	assert.Equal(t, byHandle, byID)
	require.NotEmpty(t, byHandle.Attachments)
	assert.Equal(t, byte('a'), byHandle.Attachments[0].ID[0])
	assert.Empty(t, graphIDShape.FindString(text), text)

	// The attachment's handle works where attachment ids go.
	var att ReadAttachmentResult
	h.ok("read_attachment", map[string]any{"message_id": m.ID, "attachment_id": byHandle.Attachments[0].ID}, &att)
	assert.Equal(t, byHandle.Attachments[0].ID, att.ID)
}

func TestUnknownAndForgedHandlesAreRefusedByArgument(t *testing.T) {
	h := newHarness(t)
	events := h.listEvents()
	for _, tc := range []struct {
		tool, arg, handle, want string
	}{
		{"get_message", "id", "m7fk2q9xa3", `Invalid argument "id": unknown handle m7fk2q9xa3 — it may have expired or belong to another account; search again (search_mail, get_thread) for a fresh id`},
		{"get_event", "event_id", "e7fk2q9xa3", `Invalid argument "event_id": unknown handle e7fk2q9xa3 — it may have expired or belong to another account; search again (list_events) for a fresh id`},
		{"get_contact", "contact_id", "c0000000000"[:10], `Invalid argument "contact_id": unknown handle c000000000`},
		{"search_mail", "folder", "f123456789", `Invalid argument "folder": unknown handle f123456789`},
		{"get_message", "id", events[0].ID, `Invalid argument "id": ` + events[0].ID + ` is an event handle, not a message`},
		{"send_draft", "draft_id", events[0].ID, `Invalid argument "draft_id": ` + events[0].ID + ` is an event handle, not a draft`},
	} {
		msg := h.fails(tc.tool, map[string]any{tc.arg: tc.handle})
		assert.Contains(t, msg, tc.want, tc.tool)
	}
	assert.Empty(t, h.graph("/v1.0/me/messages/"), "no Graph call for a handle that names nothing")

	// What looks almost like a handle is not one: it is checked as an id,
	// and what could leave its path segment is refused before Graph.
	for _, s := range []string{"m../../me/", "m%2e%2e/xyz", "m7fk2q9x/.", "m7fk2q9xa3/../../users", "..", "m7fk2q9xa"} {
		msg := h.fails("get_message", map[string]any{"id": s})
		assert.NotContains(t, msg, "unknown handle", s)
		assert.NotContains(t, h.lastGraph("/v1.0/").Path, "users", s)
	}

	// Well-known folder names are names, never handles.
	for _, name := range wellKnownFolders {
		assert.False(t, handles.Valid(name), name)
	}
	h.ok("search_mail", map[string]any{"folder": "deleteditems"}, nil)
	assert.Equal(t, "/v1.0/me/mailFolders/deleteditems/messages", h.lastGraph("/v1.0/me/mailFolders").Path)
}

func (h *harness) listEvents() []Event {
	h.t.Helper()
	var res ListEventsResult
	h.ok("list_events", map[string]any{"start": "2026-11-23", "end": "2026-11-28"}, &res)
	require.NotEmpty(h.t, res.Events)
	return res.Events
}

// callWith invokes a tool with arguments as who, as the HTTP transport does.
func (h *harness) callWith(who identity.Identity, name string, args map[string]any) *mcp.CallToolResult {
	h.t.Helper()
	res, err := h.server.HandleMessage(identity.With(context.Background(), who), mustJSON(h.t, map[string]any{
		"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": map[string]any{"name": name, "arguments": args},
	})).(mcp.JSONRPCResponse)
	require.True(h.t, err, "%#v", res)
	data, _ := json.Marshal(res.Result)
	out, perr := mcp.ParseCallToolResult((*json.RawMessage)(&data))
	require.NoError(h.t, perr)
	return out
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

// A handle is its connection's: another user's calls cannot use it, even
// for a message of the same fixture.
func TestAHandleOfOneConnectionIsRefusedOnAnother(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) {
		o.Users = []sim.User{{ConnectionID: "ada", Name: "Ada Lovelace"}, {ConnectionID: "alan", Name: "Alan Turing"}}
	}))
	ada := identity.Identity{Caller: "ada", Connection: "ada"}
	alan := identity.Identity{Caller: "alan", Connection: "alan"}
	var list SearchMailResult
	res := h.callWith(ada, "search_mail", map[string]any{"limit": 1})
	require.False(t, res.IsError, textOf(res))
	data, _ := json.Marshal(res.StructuredContent)
	require.NoError(t, json.Unmarshal(data, &list))
	handle := list.Messages[0].ID

	res = h.callWith(ada, "get_message", map[string]any{"id": handle})
	assert.False(t, res.IsError, textOf(res))
	res = h.callWith(alan, "get_message", map[string]any{"id": handle})
	assert.True(t, res.IsError)
	assert.Contains(t, textOf(res), `Invalid argument "id": unknown handle `+handle)
	res = h.callWith(alan, "search_mail", map[string]any{"limit": 1})
	require.False(t, res.IsError, textOf(res))
	assert.NotContains(t, textOf(res), handle, "another connection gets other handles")
	// The default connection (stdio's) is another connection too.
	assert.Contains(t, h.fails("get_message", map[string]any{"id": handle}), "unknown handle")
}

// Handles in the state directory outlive the process; a moved message
// keeps its handle.
func TestHandlesLastAcrossRestartsAndMoves(t *testing.T) {
	dir := t.TempDir()
	withStore := func(d *Deps) { d.Handles = handles.NewSQLite(dir) }
	first := newHarness(t, withDeps(withStore))
	id := first.idOf(q4Plan)
	require.NoError(t, first.ids.Close())

	// A new server on the same directory: the handle still works, and
	// the message keeps it when it moves.
	h := newHarness(t, withDeps(withStore))
	t.Cleanup(func() { _ = h.ids.Close() })
	var moved MoveResult
	text := h.ok("move_message", map[string]any{"message_id": id, "destination": "archive"}, &moved)
	assert.Equal(t, id, moved.ID)
	assert.Contains(t, text, "Its id is unchanged: "+id)
	assert.True(t, handles.Valid(moved.FolderID) && moved.FolderID[0] == 'f', moved.FolderID)
	var m MessageResult
	h.ok("get_message", map[string]any{"id": id}, &m)
	assert.Equal(t, q4Plan, m.Subject)
	assert.Contains(t, h.graphIDs(h.inFolder(moved.FolderID)), h.graphID(id), "the folder's handle lists it")
}

// A cursor carries the listing's arguments: one whose folder was a handle
// pages on, with the handle given again or not.
func TestCursorOfAListingByHandle(t *testing.T) {
	h := newHarness(t)
	var folders ListMailFoldersResult
	h.ok("list_mail_folders", map[string]any{"limit": 100}, &folders)
	inbox := ""
	for _, f := range folders.Folders {
		if f.Name == "Inbox" {
			inbox = f.ID
		}
	}
	require.True(t, handles.Valid(inbox), inbox)
	var first, again, alone SearchMailResult
	h.ok("search_mail", map[string]any{"folder": inbox, "limit": 2}, &first)
	require.NotEmpty(t, first.NextCursor)
	h.ok("search_mail", map[string]any{"folder": inbox, "limit": 2, "cursor": first.NextCursor}, &again)
	h.ok("search_mail", map[string]any{"cursor": first.NextCursor}, &alone)
	require.NotEmpty(t, again.Messages)
	assert.Equal(t, again, alone)
	assert.NotEqual(t, first.Messages[0].ID, again.Messages[0].ID)
	assert.Equal(t, "2", h.lastGraph("/v1.0/me/mailFolders/").Query.Get("$skip"))
}

// brokenStore is a store that cannot be reached.
type brokenStore struct{}

func (brokenStore) Mint(context.Context, handles.Scope, []handles.Item) ([]string, error) {
	return nil, errors.New("disk full")
}
func (brokenStore) Resolve(context.Context, handles.Scope, string) (string, bool, error) {
	return "", false, errors.New("disk full")
}
func (brokenStore) Close() error { return nil }

// collidingStore gives the first id its handle and every other id none,
// as a store does for the loser of a collision.
type collidingStore struct{ handles.Store }

func (s collidingStore) Mint(ctx context.Context, sc handles.Scope, items []handles.Item) ([]string, error) {
	out, err := s.Store.Mint(ctx, sc, items)
	for i := 1; i < len(out); i++ {
		out[i] = ""
	}
	return out, err
}

func TestWithoutAHandleTheFullIDIsShown(t *testing.T) {
	broken := newHarness(t, withDeps(func(d *Deps) { d.Handles = brokenStore{} }))
	var list SearchMailResult
	text := broken.ok("search_mail", map[string]any{"limit": 3}, &list)
	require.Len(t, list.Messages, 3)
	for _, m := range list.Messages {
		assert.Regexp(t, graphIDShape, m.ID, "a store failure does not fail the read")
		assert.Contains(t, text, m.ID)
	}
	assert.Contains(t, broken.ok("get_message", map[string]any{"id": list.Messages[0].ID}, nil), list.Messages[0].Preview[:20])
	msg := broken.fails("get_message", map[string]any{"id": "m7fk2q9xa3"})
	assert.Contains(t, msg, "could not be looked up just now")
	assert.Contains(t, msg, "pass the full id")

	h := newHarness(t, withDeps(func(d *Deps) { d.Handles = collidingStore{handles.NewMemory()} }))
	text = h.ok("search_mail", map[string]any{"limit": 3}, &list)
	assert.True(t, handles.Valid(list.Messages[0].ID))
	assert.Regexp(t, graphIDShape, list.Messages[1].ID)
	assert.Contains(t, text, list.Messages[1].ID)
	h.ok("get_message", map[string]any{"id": list.Messages[1].ID}, nil)
}

// Every id a tool returns or takes is declared: each result field named
// like an id has a handle tag, and so has each argument that goes through
// itemID.
func TestEveryIDFieldIsDeclared(t *testing.T) {
	idName := regexp.MustCompile(`(^|_)(id|folder|parent_folder|destination)$`)
	for _, tool := range All() {
		for _, f := range taggedOrIDFields(tool.newArgs()) {
			if idName.MatchString(f.name) {
				assert.NotEmpty(t, f.kinds, "%s: argument %s has no handle tag", tool.Name, f.name)
			}
			for _, k := range f.kinds {
				assert.Contains(t, handles.Kinds, byte(k), "%s %s", tool.Name, f.name)
			}
		}
	}
	// Results: the types whose ids a model passes back.
	for _, v := range []any{&SearchMailResult{}, &MessageResult{}, &ListEventsResult{}, &EventDetail{}, &ListCalendarsResult{},
		&FindContactsResult{}, &ContactResult{}, &CreatedContact{}, &ListMailFoldersResult{}, &ThreadResult{}, &MoveResult{},
		&UpdateMessageResult{}, &ComposeResult{}, &SavedEvent{}, &CancelEventResult{}, &RespondToEventResult{},
		&ListAttachmentsResult{}, &ReadAttachmentResult{}} {
		for _, f := range taggedOrIDFields(v) {
			if strings.HasSuffix(f.name, "id") && f.name != "connection_id" && f.name != "integration_id" {
				assert.Len(t, f.kinds, 1, "%T.%s: a result field names one kind", v, f.name)
			}
		}
	}
}

type declaredField struct{ name, kinds string }

// taggedOrIDFields lists the string fields of the struct v points to, and
// of the structs in it, with their handle tags.
func taggedOrIDFields(v any) []declaredField {
	var out []declaredField
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Type.Kind() == reflect.String:
				out = append(out, declaredField{name: name, kinds: f.Tag.Get("handle")})
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem())
			}
		}
	}
	walk(reflect.TypeOf(v).Elem())
	return out
}

// Replicas on one Redis resolve each other's handles; while Redis is down
// reads go on with full ids.
func TestReplicasShareHandlesThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	store := func(d *Deps) { d.Handles = handles.NewRedis(srv.Client()) }
	one, two := newHarness(t, withDeps(store)), newHarness(t, withDeps(store))
	id := one.idOf(q4Plan)
	var m MessageResult
	two.ok("get_message", map[string]any{"id": id}, &m)
	assert.Equal(t, q4Plan, m.Subject)
	assert.Equal(t, id, m.ID)

	srv.Kill()
	var list SearchMailResult
	two.ok("search_mail", map[string]any{"limit": 2}, &list)
	assert.Regexp(t, graphIDShape, list.Messages[0].ID)
	assert.Contains(t, two.fails("get_message", map[string]any{"id": id}), "could not be looked up just now")
}

// noHandles shows full ids: the cost of a call without handles.
type noHandles struct{}

func (noHandles) Mint(_ context.Context, _ handles.Scope, items []handles.Item) ([]string, error) {
	return make([]string, len(items)), nil
}
func (noHandles) Resolve(context.Context, handles.Scope, string) (string, bool, error) {
	return "", false, nil
}
func (noHandles) Close() error { return nil }

// What handles add to a search_mail of 10 messages then a get_message by
// handle, as a transport hands them to the server: compare the stores'
// times with none's (full ids). See BENCHMARKS.md.
func BenchmarkHandlesPerCall(b *testing.B) {
	stores := map[string]func(b *testing.B) handles.Store{
		"none":   func(*testing.B) handles.Store { return noHandles{} },
		"memory": func(*testing.B) handles.Store { return handles.NewMemory() },
		"sqlite": func(b *testing.B) handles.Store { return handles.NewSQLite(b.TempDir()) },
		"redis":  func(b *testing.B) handles.Store { return handles.NewRedis(redistest.Start(b).Client()) },
	}
	for _, name := range []string{"none", "memory", "sqlite", "redis"} {
		b.Run(name, func(b *testing.B) {
			store := stores[name](b)
			h := newHarness(b, withDeps(func(d *Deps) { d.Handles = store }))
			var list SearchMailResult
			h.ok("search_mail", map[string]any{"limit": 10}, &list)
			search := json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_mail","arguments":{"limit":10}}}`)
			get := mustJSON(b, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call",
				"params": map[string]any{"name": "get_message", "arguments": map[string]any{"id": list.Messages[0].ID}}})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for _, msg := range []json.RawMessage{search, get} {
					out, err := json.Marshal(h.server.HandleMessage(ctx, msg))
					if err != nil || !bytes.Contains(out, []byte(`"structuredContent"`)) {
						b.Fatalf("%v %s", err, out)
					}
				}
			}
		})
	}
}

// What handles save the model: the o200k tokens of lists with handles
// against the same lists with full ids (BENCHMARKS.md records them).
func TestHandlesSaveTokens(t *testing.T) {
	short := newHarness(t)
	full := newHarness(t, withDeps(func(d *Deps) { d.Handles = noHandles{} }))
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"search_mail", map[string]any{"limit": 10}},
		{"list_events", map[string]any{"start": "2026-11-23", "end": "2026-11-28"}},
		{"find_contacts", map[string]any{"query": "a", "limit": 50}},
		{"list_mail_folders", nil},
	} {
		withHandles, withIDs := o200k(t, short.ok(call.tool, call.args, nil)), o200k(t, full.ok(call.tool, call.args, nil))
		t.Logf("%s: %d tokens with handles, %d with Graph ids", call.tool, withHandles, withIDs)
		assert.Less(t, withHandles, withIDs, call.tool)
	}
	var list SearchMailResult
	short.ok("search_mail", map[string]any{"limit": 10}, &list)
	for _, m := range list.Messages {
		assert.LessOrEqual(t, o200k(t, m.ID), 8, m.ID)
		t.Logf("%s: %d tokens, %s: %d", m.ID, o200k(t, m.ID), m.ConversationID, o200k(t, m.ConversationID))
	}
}

// Whatever an id argument holds, resolution either replaces a handle by
// what it stands for, or refuses it by name, or leaves the value as it was
// for itemID to judge; and every handle is a value itemID accepts.
func FuzzHandleArgument(f *testing.F) {
	for _, s := range []string{"m7fk2q9xa3", " m7fk2q9xa3 ", "inbox", "syncissues", "m../../xy", "f123456789", "e7fk2q9xa3", "AAMkAGI2TG93AAA=", ""} {
		f.Add(s)
	}
	client, err := nango.New(nango.Config{Host: "https://nango.test", SecretKey: sim.DefaultSecretKey, IntegrationID: "outlook"})
	require.NoError(f, err)
	conn, release := client.Use("", "fuzz")
	f.Cleanup(release)
	store := handles.NewMemory()
	c := &Call{Conn: conn, handles: store}
	known, err := store.Mint(context.Background(), c.scope(), []handles.Item{{Kind: 'm', ID: "AAMkAGI2TG93AAA="}})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, s string) {
		args := GetMessageArgs{ID: s}
		err := resolveIDs(context.Background(), c, &args)
		h := strings.TrimSpace(s)
		switch {
		case h == known[0]:
			require.NoError(t, err)
			assert.Equal(t, "AAMkAGI2TG93AAA=", args.ID)
		case handles.Valid(h):
			var in *inputError
			require.ErrorAs(t, err, &in)
			assert.Equal(t, "id", in.arg)
			_, err := itemID("id", "a message id", h)
			assert.NoError(t, err)
		default:
			require.NoError(t, err)
			assert.Equal(t, s, args.ID)
		}
	})
}

// forgingStore resolves every handle to a path that leaves its segment,
// as a tampered store file would.
type forgingStore struct{ noHandles }

func (forgingStore) Resolve(context.Context, handles.Scope, string) (string, bool, error) {
	return "AAMk/../../users/ceo@contoso.com", true, nil
}

// What a handle stands for is checked like any id: a tampered store cannot
// send a call beyond the item's path.
func TestAResolvedHandleIsCheckedAsAnID(t *testing.T) {
	h := newHarness(t, withDeps(func(d *Deps) { d.Handles = forgingStore{} }))
	assert.Contains(t, h.fails("get_message", map[string]any{"id": "m7fk2q9xa3"}), `Invalid argument "id"`)
	assert.Contains(t, h.fails("list_mail_folders", map[string]any{"parent_folder": "f7fk2q9xa3"}), `Invalid argument "parent_folder"`)
	assert.Empty(t, h.graph("/v1.0/me/mailFolders/"))
	assert.Empty(t, h.graph("/v1.0/me/messages/"))
}

// Whether a type can hold handles is answered whole, whoever asks first:
// a recursive type asked about through itself, and many first calls at
// once (a server's first calls of a tool), all see its handles.
func TestHandleFieldsAreFoundInRecursiveTypesAndByCallsAtOnce(t *testing.T) {
	type leaf struct {
		ID string `handle:"m"`
	}
	type node struct {
		Next  *node
		Items []leaf
	}
	require.True(t, hasHandles(reflect.TypeOf(node{})))
	require.True(t, hasHandles(reflect.TypeOf(&node{})), "the pointer met inside the cycle holds handles too")
	n := &node{Next: &node{Items: []leaf{{ID: "inner"}}}, Items: []leaf{{ID: "outer"}}}
	var ids []string
	for _, f := range handleFields(reflect.ValueOf(n), nil) {
		ids = append(ids, *f.value)
	}
	assert.Equal(t, []string{"inner", "outer"}, ids)

	type fresh struct {
		Deep struct {
			More []struct {
				ID string `handle:"e"`
			}
		}
	}
	start := make(chan struct{})
	results := make(chan bool, 64)
	for range 64 {
		go func() {
			<-start
			results <- hasHandles(reflect.TypeOf(fresh{}))
		}()
	}
	close(start)
	for range 64 {
		assert.True(t, <-results, "a call running beside the first must not read a half-made answer")
	}
}
