package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMailFoldersAndChildFolders(t *testing.T) {
	s := newSim(t)
	top := get(s, "/v1.0/me/mailFolders?$top=50").values(t)
	names := map[string]map[string]any{}
	for _, f := range top {
		names[f["displayName"].(string)] = f
		assert.Equal(t, s.box.rootFolderID, f["parentFolderId"], "only the folders directly under the root")
	}
	require.Contains(t, names, "Project Atlas")
	assert.NotContains(t, names, "Design reviews")
	atlas := names["Project Atlas"]
	assert.EqualValues(t, 1, atlas["childFolderCount"])
	assert.EqualValues(t, 2, atlas["totalItemCount"])
	inbox := names["Inbox"]
	assert.Positive(t, inbox["unreadItemCount"])
	assert.Greater(t, inbox["totalItemCount"], inbox["unreadItemCount"])

	r := get(s, "/v1.0/me/mailFolders/"+atlas["id"].(string)+"/childFolders")
	require.Equal(t, 200, r.status, string(r.body))
	kids := r.values(t)
	require.Len(t, kids, 1)
	assert.Equal(t, "Design reviews", kids[0]["displayName"])
	assert.Equal(t, atlas["id"], kids[0]["parentFolderId"])
	assert.EqualValues(t, 2, kids[0]["totalItemCount"])
	assert.EqualValues(t, 1, kids[0]["unreadItemCount"])
	assert.EqualValues(t, 0, kids[0]["childFolderCount"])
	assert.Contains(t, r.json(t)["@odata.context"], "/childFolders")

	assert.Empty(t, get(s, "/v1.0/me/mailFolders/Inbox/childFolders").values(t), "well-known names work")
	assert.Equal(t, "ErrorItemNotFound", get(s, "/v1.0/me/mailFolders/nosuchfolder/childFolders").code(t))
	s.SetScopes("Mail.ReadBasic")
	assert.Equal(t, 200, get(s, "/v1.0/me/mailFolders/inbox/childFolders").status)
}

func TestConversationFilterAndUniqueBody(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, "Quick question on the rate-limit defaults")
	r := get(s, "/v1.0/me/messages"+q("$filter", "conversationId eq '"+m.conversationID+"'", "$select", "subject,uniqueBody,receivedDateTime"),
		"Nango-Proxy-Prefer", `outlook.body-content-type="text"`)
	require.Equal(t, 200, r.status, string(r.body))
	thread := r.values(t)
	require.Len(t, thread, 3, "every folder: inbox and sent items")
	for _, msg := range thread {
		unique := msg["uniqueBody"].(map[string]any)["content"].(string)
		assert.NotContains(t, unique, "From:", "the new text only")
	}
	full := get(s, "/v1.0/me/messages"+q("$filter", "conversationId eq '"+m.conversationID+"'", "$select", "body"),
		"Nango-Proxy-Prefer", `outlook.body-content-type="text"`).values(t)
	assert.Contains(t, full[0]["body"].(map[string]any)["content"], "From:", "the body of the latest reply quotes the thread")
}

func TestMoveMessage(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, q4Subject)
	oldID, immID := m.id, m.immID

	r := proxy(s, "POST", "/v1.0/me/messages/"+oldID+"/move", `{"destinationId":"archive"}`)
	require.Equal(t, 200, r.status, "Graph's 201 comes back as 200 through Nango, with the body: %s", r.body)
	moved := r.json(t)
	newID := moved["id"].(string)
	assert.NotEqual(t, oldID, newID, "the REST id changes with the folder")
	assert.Equal(t, s.box.folder("archive").id, moved["parentFolderId"])
	assert.Equal(t, q4Subject, moved["subject"])

	assert.Equal(t, "ErrorItemNotFound", get(s, "/v1.0/me/messages/"+oldID).code(t), "the old id is gone")
	assert.Equal(t, 200, get(s, "/v1.0/me/messages/"+newID).status)
	inArchive := get(s, "/v1.0/me/mailFolders/archive/messages"+q("$filter", "subject eq '"+strings.ReplaceAll(q4Subject, "'", "''")+"'", "$select", "id")).values(t)
	require.Len(t, inArchive, 1)
	assert.Equal(t, newID, inArchive[0]["id"])
	assert.Empty(t, get(s, "/v1.0/me/mailFolders/inbox/messages"+q("$filter", "subject eq '"+strings.ReplaceAll(q4Subject, "'", "''")+"'")).values(t))

	// The immutable id survives the move.
	r = proxy(s, "POST", "/v1.0/me/messages/"+immID+"/move", `{"destinationId":"deleteditems"}`, "Nango-Proxy-Prefer", `IdType="ImmutableId"`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, immID, r.json(t)["id"])
	assert.Equal(t, s.box.folder("deleteditems").id, r.json(t)["parentFolderId"])

	// Graph's scopes and errors.
	for _, tc := range []struct {
		id, body, code string
		status         int
	}{
		{immID, `{"destinationId":"nowhere"}`, "ErrorInvalidIdMalformed", 400},
		{immID, `{"destinationId":"AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQAuAAAAAAXXXXAAA="}`, "ErrorItemNotFound", 404},
		{immID, `{}`, "ErrorInvalidParameter", 400},
		{immID, ``, "BadRequest", 400},
		{immID, `{"destination":"inbox"}`, "RequestBodyRead", 400},
		{"AAMkAGI2TG93AAA=", `{"destinationId":"inbox"}`, "ErrorItemNotFound", 404},
	} {
		r := proxy(s, "POST", "/v1.0/me/messages/"+tc.id+"/move", tc.body)
		assert.Equal(t, tc.status, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}
	s.SetScopes("Mail.Read", "Mail.Send")
	assert.Equal(t, "ErrorAccessDenied", proxy(s, "POST", "/v1.0/me/messages/"+immID+"/move", `{"destinationId":"inbox"}`).code(t))
}

// PATCH itself is compose's (compose.go); this checks what organizing
// relies on: the properties any message takes, seen by later queries.
func TestPatchOrganizingProperties(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, q4Subject)
	require.False(t, m.isRead)

	r := proxy(s, "PATCH", "/v1.0/me/messages/"+m.immID, `{"isRead":true,"flag":{"flagStatus":"flagged"},"categories":["Atlas","Finance"],"importance":"high"}`,
		"Nango-Proxy-Prefer", `IdType="ImmutableId"`)
	require.Equal(t, 200, r.status, string(r.body))
	got := r.json(t)
	assert.Equal(t, m.immID, got["id"])
	assert.Equal(t, true, got["isRead"])
	assert.Equal(t, map[string]any{"flagStatus": "flagged"}, got["flag"])
	assert.Equal(t, []any{"Atlas", "Finance"}, got["categories"])
	assert.Equal(t, "high", got["importance"])
	assert.Equal(t, q4Subject, got["subject"], "what was not sent is unchanged")

	var flagged []any
	for _, f := range get(s, "/v1.0/me/messages"+q("$filter", "flag/flagStatus eq 'flagged'", "$select", "subject")).values(t) {
		flagged = append(flagged, f["subject"])
	}
	assert.Contains(t, flagged, q4Subject, "a filter sees the change")

	before := *m
	r = proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"isRead":false,"flag":{"flagStatus":"urgent"}}`)
	assert.Equal(t, "RequestBodyRead", r.code(t))
	assert.Equal(t, before, *m, "a rejected PATCH changes nothing")

	s.SetScopes("Mail.Read")
	assert.Equal(t, "ErrorAccessDenied", proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"isRead":true}`).code(t))
}
