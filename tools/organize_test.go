package tools

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

const threadSubject = "Quick question on the rate-limit defaults"

// idIn finds a message by subject in one folder, as a model would: its immutable id.
func (h *harness) idIn(folder, subject string) string {
	h.t.Helper()
	ms := h.inFolder(folder)
	i := slices.IndexFunc(ms, func(m MessageSummary) bool { return m.Subject == subject })
	require.GreaterOrEqual(h.t, i, 0, "no message %q in %s", subject, folder)
	return ms[i].ID
}

// restID asks Graph for a message's REST id (no ImmutableId preference),
// the kind of id that changes when the message moves.
func (h *harness) restID(subject string) string {
	h.t.Helper()
	filter := "subject eq '" + strings.ReplaceAll(subject, "'", "''") + "'"
	req, err := http.NewRequest("GET", "https://nango.test/proxy/v1.0/me/messages?$select=id&$filter="+url.QueryEscape(filter), nil)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+sim.DefaultSecretKey)
	req.Header.Set("Provider-Config-Key", "outlook")
	req.Header.Set("Connection-Id", "sandbox")
	resp, err := h.sim.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var page struct{ Value []struct{ ID string } }
	require.NoError(h.t, json.Unmarshal(body, &page), "%s", body)
	require.Len(h.t, page.Value, 1, "%s", body)
	return page.Value[0].ID
}

func TestListMailFoldersShowsATreeWithCounts(t *testing.T) {
	h := newHarness(t)
	var res ListMailFoldersResult
	text := h.ok("list_mail_folders", nil, &res)

	byName := map[string]MailFolder{}
	for _, f := range res.Folders {
		byName[f.Name] = f
	}
	require.Contains(t, byName, "Inbox")
	require.Contains(t, byName, "Design reviews", "subfolders one level down are listed too")
	atlas, reviews := byName["Project Atlas"], byName["Design reviews"]
	assert.Equal(t, atlas.ID, reviews.ParentID)
	assert.Equal(t, 1, atlas.ChildFolders)
	assert.Equal(t, MailFolder{ID: reviews.ID, Name: "Design reviews", ParentID: atlas.ID, Unread: 1, Total: 2}, reviews)
	assert.Positive(t, byName["Inbox"].Unread)

	assert.Contains(t, text, "\n- Project Atlas 0/2 id: "+atlas.ID+"\n  - Design reviews 1/2 id: "+reviews.ID, "an indented tree")
	assert.Contains(t, text, "unread/total")

	req := h.lastGraph("/v1.0/me/mailFolders")
	top := h.graph("/v1.0/me/mailFolders")[0]
	assert.Equal(t, "/v1.0/me/mailFolders", top.Path)
	assert.Equal(t, "50", top.Query.Get("$top"))
	assert.Contains(t, top.Query.Get("$select"), "unreadItemCount")
	assert.Equal(t, "/v1.0/me/mailFolders/"+h.graphID(atlas.ID)+"/childFolders", req.Path)
	assert.Len(t, h.graph("/v1.0/me/mailFolders"), 2, "one extra call, only for the folder with subfolders")
}

func TestListMailFoldersOfAParentAndPaging(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Mail.ReadBasic"))
	var first, second ListMailFoldersResult
	h.ok("list_mail_folders", map[string]any{"limit": 4}, &first)
	require.Len(t, first.Folders, 4)
	require.NotEmpty(t, first.NextCursor)
	h.ok("list_mail_folders", map[string]any{"cursor": first.NextCursor}, &second)
	require.NotEmpty(t, second.Folders)
	assert.NotEqual(t, first.Folders[0].ID, second.Folders[0].ID)
	pages := 0
	for _, r := range h.graph("/v1.0/me/mailFolders") {
		if r.Path == "/v1.0/me/mailFolders" {
			pages++
			assert.Equal(t, []string{"", "4"}[pages-1], r.Query.Get("$skip"), "the second page continues the first")
		}
	}
	assert.Equal(t, 2, pages)

	var atlas string
	for _, f := range append(first.Folders, second.Folders...) {
		if f.Name == "Project Atlas" {
			atlas = f.ID
		}
	}
	require.NotEmpty(t, atlas, "Project Atlas is on the first two pages")
	var kids ListMailFoldersResult
	text := h.ok("list_mail_folders", map[string]any{"parent_folder": atlas}, &kids)
	require.Len(t, kids.Folders, 1)
	assert.Equal(t, "Design reviews", kids.Folders[0].Name)
	assert.Contains(t, text, "\n- Design reviews 1/2")
	assert.Equal(t, "/v1.0/me/mailFolders/"+h.graphID(atlas)+"/childFolders", h.lastGraph("/v1.0/me/mailFolders").Path)

	assert.Equal(t, "No folders.", h.ok("list_mail_folders", map[string]any{"parent_folder": "Inbox"}, nil))
	assert.Contains(t, h.fails("list_mail_folders", map[string]any{"parent_folder": "nosuchfolder"}), "Not found")
	assert.Contains(t, h.fails("list_mail_folders", map[string]any{"parent_folder": "inbox/../../../users"}), `Invalid argument "parent_folder"`)
}

func TestListMailFoldersRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	assert.Contains(t, h.fails("list_mail_folders", map[string]any{"limit": 101}), `"limit": must be between 1 and 100`)
	assert.Contains(t, h.fails("list_mail_folders", map[string]any{"parent": "inbox"}), `"parent": is not an argument`)
	assert.Empty(t, h.graph("/v1.0/"))
	assert.Contains(t, newHarness(t, withScopes("User.Read")).fails("list_mail_folders", nil), "needs the Microsoft Graph delegated permission Mail.ReadBasic")
}

func TestGetThreadOldestFirstWithOnlyNewText(t *testing.T) {
	h := newHarness(t)
	var latest MessageSummary
	for _, m := range h.inFolder("inbox") {
		if m.Subject == "RE: "+threadSubject && m.ReceivedAt > latest.ReceivedAt {
			latest = m
		}
	}
	require.NotEmpty(t, latest.ID)

	var res ThreadResult
	text := h.ok("get_thread", map[string]any{"message_id": latest.ID}, &res)
	require.Len(t, res.Messages, 3, "the question, the reply from Sent Items, the answer")
	assert.Equal(t, threadSubject, res.Subject)
	assert.Equal(t, latest.ConversationID, res.ConversationID)
	for i, m := range res.Messages {
		assert.NotEmpty(t, m.Text)
		assert.NotContains(t, m.Text, "From:", "only the new text, not the quoted thread")
		if i > 0 {
			assert.Less(t, res.Messages[i-1].ReceivedAt, m.ReceivedAt, "oldest first")
		}
	}
	assert.Equal(t, latest.ID, res.Messages[2].ID)
	assert.Equal(t, "priya.raman@contoso.com", res.Messages[1].From.Address, "the user's own reply is part of the thread")
	assert.Contains(t, unmarked(text), "\n\nFri 20 Nov 2026 13:20\n⟦data M⟧\n"+res.Messages[0].From.String()+":\n"+res.Messages[0].Text+"\n⟦end M⟧\n\n14:02\n", "a fence per message; the day once")
	assert.Contains(t, text, "Latest message id: "+latest.ID)
	assert.Less(t, len(text), 1800, "token-lean:\n%s", text)

	lookup := h.graph("/v1.0/me/messages/")[0]
	assert.Equal(t, "conversationId", lookup.Query.Get("$select"))
	list := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, "/v1.0/me/messages", list.Path)
	assert.Equal(t, "conversationId eq '"+h.graphID(latest.ConversationID)+"'", list.Query.Get("$filter"))
	assert.Contains(t, list.Query.Get("$select"), "uniqueBody")
	assert.NotContains(t, list.Query.Get("$select"), "body,")
	assert.Empty(t, list.Query.Get("$orderby"), "Graph may refuse $orderby with this filter: sorted here")
	assert.NotContains(t, list.Header.Get("Prefer"), "outlook.body-content-type", "HTML, converted here")
	assert.Contains(t, list.Header.Get("Prefer"), `IdType="ImmutableId"`)

	// By conversation id, with a limit: the latest messages.
	var short ThreadResult
	text = h.ok("get_thread", map[string]any{"conversation_id": latest.ConversationID, "limit": 2}, &short)
	require.Len(t, short.Messages, 2)
	assert.Equal(t, res.Messages[1:], short.Messages)
	assert.Equal(t, 1, short.Omitted)
	assert.Contains(t, text, "1 older not shown")
}

func TestGetThreadMarksDrafts(t *testing.T) {
	h := newHarness(t)
	var res ThreadResult
	text := h.ok("get_thread", map[string]any{"message_id": h.idIn("inbox", renewal)}, &res)
	require.NotEmpty(t, res.Messages)
	assert.True(t, res.Messages[len(res.Messages)-1].IsDraft)
	assert.Contains(t, unmarked(text), "[draft]\n⟦data M⟧\nPriya Raman")
}

func TestGetThreadArguments(t *testing.T) {
	h := newHarness(t)
	both := h.fails("get_thread", map[string]any{"message_id": "AAMkAGI2TG93AAAAAAA=", "conversation_id": "AAQkAGI2TG93AAA="})
	assert.Contains(t, both, `"message_id"`)
	assert.Contains(t, both, "conversation_id, not both")
	neither := h.fails("get_thread", map[string]any{"limit": 5})
	assert.Contains(t, neither, `"message_id": or conversation_id is required`)
	assert.Contains(t, h.fails("get_thread", map[string]any{"conversation_id": "  "}), `"message_id": or conversation_id is required`)
	assert.Contains(t, h.fails("get_thread", map[string]any{"conversation_id": "x", "limit": 51}), `"limit"`)
	assert.Empty(t, h.graph("/v1.0/"), "no Graph call for bad input")

	// Hostile ids are refused before they reach a literal or a path.
	assert.Contains(t, h.fails("get_thread", map[string]any{"conversation_id": "x' or subject ne 'y"}), `Invalid argument "conversation_id"`)
	assert.Empty(t, h.graph("/v1.0/"))
	assert.Contains(t, h.fails("get_thread", map[string]any{"message_id": "../../me/sendMail"}), `Invalid argument "message_id"`)
	assert.Empty(t, h.graph("/v1.0/"))
	assert.Contains(t, h.fails("get_thread", map[string]any{"message_id": "AAMkAGI2TG93AAAAAAA="}), "Not found")

	assert.Contains(t, newHarness(t, withScopes("User.Read", "Mail.ReadBasic")).fails("get_thread", map[string]any{"conversation_id": "x"}),
		"get_thread needs the Microsoft Graph delegated permission Mail.Read")
}

func TestMoveMessage(t *testing.T) {
	h := newHarness(t)
	id := h.idIn("inbox", q4Plan)

	var res MoveResult
	text := h.ok("move_message", map[string]any{"message_id": id, "destination": "archive"}, &res)
	assert.Equal(t, "Archive", res.Folder, "the folder's display name")
	assert.Equal(t, id, res.ID, "an immutable id survives the move")
	assert.Equal(t, q4Plan, res.Subject)
	assert.Contains(t, unmarked(text), `Moved ⟦data M⟧O'Brien's "Q4" plan`)
	assert.Contains(t, text, "to Archive. Its id is unchanged: "+id)

	req := h.lastGraph("/v1.0/me/messages/")
	assert.Equal(t, "POST", req.Method)
	assert.Equal(t, "/v1.0/me/messages/"+h.graphID(id)+"/move", req.Path)
	assert.JSONEq(t, `{"destinationId":"archive"}`, string(req.Body))
	assert.Contains(t, req.Header.Get("Prefer"), `IdType="ImmutableId"`)
	assert.Equal(t, id, h.idIn("archive", q4Plan))
	assert.NotContains(t, h.inFolder("inbox"), MessageSummary{ID: id})
	for _, m := range h.inFolder("inbox") {
		assert.NotEqual(t, q4Plan, m.Subject)
	}

	// With an id that names the folder (a REST id), the id changes: the old
	// one is gone, the new one is in the destination.
	old := h.restID(q4Plan)
	var back MoveResult
	text = h.ok("move_message", map[string]any{"message_id": old, "destination": "inbox"}, &back)
	assert.Equal(t, "Inbox", back.Folder)
	assert.NotEqual(t, old, back.ID)
	assert.Contains(t, text, "Its id is now "+back.ID+" (the old one no longer works).")
	assert.Contains(t, h.fails("get_message", map[string]any{"id": old}), "Not found")
	assert.Equal(t, back.ID, h.idIn("inbox", q4Plan))
}

func TestMoveMessageFailures(t *testing.T) {
	h := newHarness(t)
	id := h.idIn("inbox", q4Plan)
	calls := len(h.graph("/v1.0/"))
	msg := h.fails("move_message", map[string]any{"message_id": id, "destination": "Project Atlas"})
	assert.Contains(t, msg, `"destination": "Project Atlas" is neither a well-known folder`)
	assert.Contains(t, msg, "list_mail_folders")
	assert.Contains(t, h.fails("move_message", map[string]any{"message_id": id}), `"destination": is required`)
	assert.Contains(t, h.fails("move_message", map[string]any{"message_id": " ", "destination": "inbox"}), `"message_id": is required`)
	assert.Len(t, h.graph("/v1.0/"), calls, "no Graph call for bad input")

	assert.Contains(t, h.fails("move_message", map[string]any{"message_id": id, "destination": "AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQAuAAAAAAXXXXAAA="}), "Not found")
	assert.Contains(t, h.fails("move_message", map[string]any{"message_id": "AAMkAGI2TG93AAAAAAA=", "destination": "inbox"}), "Not found")
	assert.Contains(t, h.fails("move_message", map[string]any{"message_id": "../../me/sendMail", "destination": "inbox"}), `Invalid argument "message_id"`)
	assert.Empty(t, h.graph("/v1.0/me/sendMail"))

	// Graph may have moved it before failing: a move is never repeated.
	h.sim.Inject(sim.Fault{Method: "POST", Path: "/v1.0/me/messages/", Status: 503, AfterEffect: true})
	before := len(h.graph("/v1.0/me/messages/"))
	assert.Contains(t, h.fails("move_message", map[string]any{"message_id": id, "destination": "archive"}), "NOT retried")
	assert.Len(t, h.graph("/v1.0/me/messages/"), before+1, "exactly one attempt")

	ro := newHarness(t, withScopes("User.Read", "Mail.Read"))
	assert.Contains(t, ro.fails("move_message", map[string]any{"message_id": id, "destination": "archive"}), "move_message needs the Microsoft Graph delegated permission Mail.ReadWrite")
	assert.Empty(t, ro.graph("/v1.0/me/messages/"))
}

func TestDeleteMessageMovesToDeletedItems(t *testing.T) {
	h := newHarness(t)
	id := h.idIn("inbox", q4Plan)
	var res MoveResult
	text := h.ok("delete_message", map[string]any{"message_id": id}, &res)
	assert.Equal(t, "Deleted Items", res.Folder)
	assert.Contains(t, unmarked(text), "Deleted ⟦data M⟧O'Brien's")
	assert.Contains(t, text, "it is in Deleted Items, where it can be recovered.")
	assert.Contains(t, text, id)

	req := h.lastGraph("/v1.0/me/messages/")
	assert.Equal(t, "/v1.0/me/messages/"+h.graphID(id)+"/move", req.Path)
	assert.JSONEq(t, `{"destinationId":"deleteditems"}`, string(req.Body))
	for _, r := range h.graph("/v1.0/") {
		assert.NotEqual(t, "DELETE", r.Method, "never a hard delete")
	}
	assert.Equal(t, res.ID, h.idIn("deleteditems", q4Plan), "recoverable from Deleted Items")

	assert.Contains(t, h.fails("delete_message", map[string]any{"message_id": "AAMkAGI2TG93AAAAAAA="}), "Not found")
	assert.Contains(t, newHarness(t, withScopes("User.Read", "Mail.Read")).fails("delete_message", map[string]any{"message_id": id}), "Mail.ReadWrite")
}

func TestUpdateMessageSendsOnlyTheGivenFields(t *testing.T) {
	h := newHarness(t)
	id := h.idIn("inbox", q4Plan)

	var res UpdateMessageResult
	text := h.ok("update_message", map[string]any{"message_id": id, "is_read": true, "flag": "flagged"}, &res)
	req := h.lastGraph("/v1.0/me/messages/")
	assert.Equal(t, "PATCH", req.Method)
	assert.Equal(t, "/v1.0/me/messages/"+h.graphID(id), req.Path)
	assert.JSONEq(t, `{"isRead":true,"flag":{"flagStatus":"flagged"}}`, string(req.Body))
	assert.Equal(t, []string{"is_read", "flag"}, res.Changed)
	assert.True(t, res.IsRead)
	assert.Equal(t, "flagged", res.Flag)
	assert.Equal(t, id, res.ID)
	assert.Contains(t, text, "marked read; flag flagged")

	var unread SearchMailResult
	h.ok("search_mail", map[string]any{"unread_only": true, "limit": 50}, &unread)
	for _, m := range unread.Messages {
		assert.NotEqual(t, id, m.ID, "it is read now")
	}

	text = h.ok("update_message", map[string]any{"message_id": id, "categories": []string{"Finance", " Atlas "}, "importance": "high"}, &res)
	assert.JSONEq(t, `{"categories":["Finance","Atlas"],"importance":"high"}`, string(h.lastGraph("/v1.0/me/messages/").Body))
	assert.Contains(t, text, "categories: Finance, Atlas; importance high")
	assert.True(t, res.IsRead, "earlier changes stay")

	text = h.ok("update_message", map[string]any{"message_id": id, "categories": []string{}}, &res)
	assert.JSONEq(t, `{"categories":[]}`, string(h.lastGraph("/v1.0/me/messages/").Body))
	assert.Equal(t, []string{}, res.Categories)
	assert.Contains(t, text, "categories: none")

	// Idempotent: a failed PATCH is retried.
	h.sim.Inject(sim.Fault{Method: "PATCH", Status: 503})
	before := len(h.graph("/v1.0/me/messages/"))
	h.ok("update_message", map[string]any{"message_id": id, "is_read": false}, &res)
	assert.Len(t, h.graph("/v1.0/me/messages/"), before+2)
	assert.False(t, res.IsRead)
}

func TestUpdateMessageRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	id := "AAMkAGI2TG93AAAAAAA="
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"message_id": id}, "nothing to change: give is_read, flag, categories or importance"},
		{map[string]any{"message_id": id, "flag": "urgent"}, `"flag": must be flagged, complete or notFlagged, not "urgent"`},
		{map[string]any{"message_id": id, "importance": "critical"}, `"importance": must be low, normal or high`},
		{map[string]any{"message_id": id, "categories": []string{"ok", " "}}, `"categories": cannot hold an empty name`},
		{map[string]any{"message_id": id, "is_read": "yes"}, `"is_read": must be true or false`},
		{map[string]any{"is_read": true}, `"message_id": is required`},
	} {
		assert.Contains(t, h.fails("update_message", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/"), "no Graph call for bad input")

	assert.Contains(t, h.fails("update_message", map[string]any{"message_id": id, "is_read": true}), "Not found")
	assert.Contains(t, h.fails("update_message", map[string]any{"message_id": "a/../../b?x=1", "is_read": true}), `Invalid argument "message_id"`)
}
