package sim

import (
	"time"

	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// atGraph calls Graph directly, without Nango, to see its own status
// (Nango turns 201 and 202 into 200).
func atGraph(s *Sim, method, graphPath, body string) response {
	r := httptest.NewRequest(method, "https://graph.microsoft.com"+graphPath, strings.NewReader(body))
	resp := s.graph(newGraphRequest(r, r.URL.EscapedPath(), []byte(body), testNow))
	return response{status: resp.status, header: resp.header, body: resp.body}
}

// sentAt decodes the i-th message Sent() recorded.
func sentAt(t *testing.T, s *Sim, i int) map[string]any {
	t.Helper()
	sent := s.Sent()
	require.Greater(t, len(sent), i, "only %d sent", len(sent))
	var m map[string]any
	require.NoError(t, json.Unmarshal(sent[i], &m))
	return m
}

// addresses lists the addresses of a recipients JSON array.
func addresses(v any) []string {
	out := []string{}
	for _, r := range v.([]any) {
		out = append(out, r.(map[string]any)["emailAddress"].(map[string]any)["address"].(string))
	}
	return out
}

func folderSubjects(t *testing.T, s *Sim, folder string) []string {
	t.Helper()
	var out []string
	for _, m := range get(s, "/v1.0/me/mailFolders/"+folder+"/messages?$top=100&$select=subject").values(t) {
		out = append(out, m["subject"].(string))
	}
	return out
}

const ann = `{"emailAddress":{"address":"ann.fischer@contoso.com","name":"Ann Fischer"}}`

func TestDraftIsCreatedUpdatedAndSent(t *testing.T) {
	s := newSim(t)
	r := atGraph(s, "POST", "/v1.0/me/messages", `{"subject":"Budget","body":{"contentType":"Text","content":"Draft one"},"toRecipients":[`+ann+`]}`)
	require.Equal(t, 201, r.status, string(r.body))
	draft := r.json(t)
	id := draft["id"].(string)
	assert.Equal(t, true, draft["isDraft"])
	assert.Equal(t, s.box.folder("drafts").id, draft["parentFolderId"])
	assert.Contains(t, draft["webLink"], "https://outlook.office365.com/owa/?ItemID=")
	assert.Equal(t, "priya.raman@contoso.com", draft["from"].(map[string]any)["emailAddress"].(map[string]any)["address"])
	assert.Contains(t, folderSubjects(t, s, "drafts"), "Budget")
	assert.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages", `{}`).status, "201 comes back as 200 through Nango")

	// PATCH sets what it is given, all or nothing.
	r = proxy(s, "PATCH", "/v1.0/me/messages/"+id, `{"subject":"Budget v2","ccRecipients":[{"emailAddress":{"address":"omar.haddad@northwindtraders.com"}}]}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, "Budget v2", r.json(t)["subject"])
	assert.Equal(t, []string{"omar.haddad@northwindtraders.com"}, addresses(r.json(t)["ccRecipients"]))
	r = proxy(s, "PATCH", "/v1.0/me/messages/"+id, `{"subject":"Budget v3","colour":"red"}`)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "RequestBodyRead", r.code(t))
	assert.Contains(t, r.message(t), "'colour' does not exist on type 'microsoft.graph.message'")
	assert.Contains(t, folderSubjects(t, s, "drafts"), "Budget v2", "a rejected PATCH changes nothing")
	assert.Equal(t, "RequestBodyRead", proxy(s, "PATCH", "/v1.0/me/messages/"+id, `{"attachments":[]}`).code(t), "attachments are not set by PATCH")
	assert.Equal(t, "RequestBodyRead", proxy(s, "PATCH", "/v1.0/me/messages/"+id, `{"importance":"urgent"}`).code(t))
	assert.Equal(t, "BadRequest", proxy(s, "PATCH", "/v1.0/me/messages/"+id, ``).code(t))

	// Sending moves it to Sent Items under a new id.
	r = atGraph(s, "POST", "/v1.0/me/messages/"+id+"/send", "")
	require.Equal(t, 202, r.status, string(r.body))
	assert.Empty(t, r.body)
	assert.NotContains(t, folderSubjects(t, s, "drafts"), "Budget v2")
	assert.Contains(t, folderSubjects(t, s, "sentitems"), "Budget v2")
	assert.Equal(t, 404, get(s, "/v1.0/me/messages/"+id).status, "the draft's id is gone")
	sent := sentAt(t, s, 0)
	assert.Equal(t, "Budget v2", sent["subject"])
	assert.Equal(t, []string{"ann.fischer@contoso.com"}, addresses(sent["toRecipients"]))
	assert.Equal(t, []string{"omar.haddad@northwindtraders.com"}, addresses(sent["ccRecipients"]))
	assert.Equal(t, map[string]any{"contentType": "Text", "content": "Draft one"}, sent["body"])
}

func TestOnlyADraftWithRecipientsIsSent(t *testing.T) {
	s := newSim(t)
	received := s.messageBySubject(t, q4Subject)
	r := atGraph(s, "POST", "/v1.0/me/messages/"+received.id+"/send", "")
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "ErrorInvalidOperation", r.code(t))

	empty := atGraph(s, "POST", "/v1.0/me/messages", `{"subject":"Nobody"}`).json(t)["id"].(string)
	r = proxy(s, "POST", "/v1.0/me/messages/"+empty+"/send", "")
	assert.Equal(t, "ErrorInvalidRecipients", r.code(t))
	unresolved := atGraph(s, "POST", "/v1.0/me/messages", `{"toRecipients":[{"emailAddress":{"address":"ann@"}}]}`)
	require.Equal(t, 201, unresolved.status, "a draft may hold an address that does not resolve")
	assert.Equal(t, "ErrorInvalidRecipients", proxy(s, "POST", "/v1.0/me/messages/"+unresolved.json(t)["id"].(string)+"/send", "").code(t))
	assert.Empty(t, s.Sent())
}

func TestPatchOfAReceivedMessage(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, "Headcount plan for H1")
	r := proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"isRead":true,"flag":{"flagStatus":"flagged"},"categories":["Red category"]}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, true, r.json(t)["isRead"])
	assert.Equal(t, map[string]any{"flagStatus": "flagged"}, r.json(t)["flag"])
	assert.Equal(t, []any{"Red category"}, r.json(t)["categories"])

	r = proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"isRead":false,"subject":"Rewritten"}`)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "ErrorInvalidPropertyUpdateSentMessage", r.code(t))
	assert.True(t, m.isRead, "nothing changed")
	assert.Equal(t, "Headcount plan for H1", m.subject)
	assert.Equal(t, "RequestBodyRead", proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"isRead":"yes"}`).code(t))
}

func TestReplyGoesToTheRightPeople(t *testing.T) {
	s := newSim(t)
	// From Elena Petrova to Marcus Chen, cc the user and Tom Whitaker.
	orig := s.messageBySubject(t, "Renewal questions before our call")

	r := atGraph(s, "POST", "/v1.0/me/messages/"+orig.id+"/reply", `{"comment":"Thanks, Elena.\nTalk soon."}`)
	require.Equal(t, 202, r.status, string(r.body))
	sent := sentAt(t, s, 0)
	assert.Equal(t, "RE: Renewal questions before our call", sent["subject"])
	assert.Equal(t, []string{"elena.petrova@fabrikam.com"}, addresses(sent["toRecipients"]))
	assert.Empty(t, sent["ccRecipients"])
	body := sent["body"].(map[string]any)
	assert.Equal(t, "HTML", body["contentType"])
	assert.Contains(t, body["content"], "Thanks, Elena.<br>")
	assert.Contains(t, body["content"], "<b>From:</b> Elena Petrova &lt;elena.petrova@fabrikam.com&gt;", "the original is quoted")
	assert.Contains(t, body["content"], orig.body.text)

	require.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+orig.id+"/replyAll", `{"comment":"All: see you Thursday."}`).status)
	sent = sentAt(t, s, 1)
	assert.Equal(t, []string{"elena.petrova@fabrikam.com", "marcus.chen@contoso.com"}, addresses(sent["toRecipients"]))
	assert.Equal(t, []string{"tom.whitaker@fabrikam.com"}, addresses(sent["ccRecipients"]), "everyone but the user")

	list := get(s, "/v1.0/me/mailFolders/sentitems/messages?$top=2&$select=subject,conversationId,isDraft").values(t)
	assert.Equal(t, "RE: Renewal questions before our call", list[0]["subject"])
	assert.Equal(t, orig.conversationID, list[0]["conversationId"], "in the same conversation")
	assert.Equal(t, false, list[0]["isDraft"])

	// A reply to one's own message goes to its recipients; replyTo wins over the sender.
	own := s.messageBySubject(t, "Atlas weekly status")
	require.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+own.id+"/reply", `{}`).status)
	assert.Equal(t, []string{"daniel.obrien@contoso.com"}, addresses(sentAt(t, s, 2)["toRecipients"]))
	orig.replyTo = []recipient{{Name: "Fabrikam Deals", Address: "deals@fabrikam.com"}}
	require.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+orig.id+"/reply", `{"comment":"ok"}`).status)
	assert.Equal(t, []string{"deals@fabrikam.com"}, addresses(sentAt(t, s, 3)["toRecipients"]))
}

func TestReplyTakesACommentOrABodyNotBoth(t *testing.T) {
	s := newSim(t)
	id := s.messageBySubject(t, "Lunch next week?").id
	for _, tc := range []struct{ body, code string }{
		{`{"comment":"hi","message":{"body":{"contentType":"HTML","content":"<p>hi</p>"}}}`, "BadRequest"},
		{`{"comment":"hi","toRecipients":[` + ann + `]}`, "RequestBodyRead"},
		{`{"comment":"hi","message":{"colour":"red"}}`, "RequestBodyRead"},
		{`{"comment":`, "BadRequest"},
	} {
		r := proxy(s, "POST", "/v1.0/me/messages/"+id+"/reply", tc.body)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}
	assert.Empty(t, s.Sent())

	// message.body instead of a comment; a comment with other message properties.
	require.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+id+"/reply", `{"message":{"body":{"contentType":"HTML","content":"<p>Friday <b>works</b></p>"}}}`).status)
	assert.True(t, strings.HasPrefix(sentAt(t, s, 0)["body"].(map[string]any)["content"].(string), "<p>Friday <b>works</b></p>"))
	require.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+id+"/reply", `{"comment":"Friday","message":{"ccRecipients":[`+ann+`]}}`).status)
	assert.Equal(t, []string{"ann.fischer@contoso.com"}, addresses(sentAt(t, s, 1)["ccRecipients"]))
}

func TestForwardCarriesTheAttachments(t *testing.T) {
	s := newSim(t)
	orig := s.messageBySubject(t, q4Subject)
	r := atGraph(s, "POST", "/v1.0/me/messages/"+orig.id+"/forward", `{"comment":"FYI","toRecipients":[`+ann+`]}`)
	require.Equal(t, 202, r.status, string(r.body))
	sent := sentAt(t, s, 0)
	assert.Equal(t, "FW: "+q4Subject, sent["subject"])
	assert.Equal(t, []string{"ann.fischer@contoso.com"}, addresses(sent["toRecipients"]))
	require.Len(t, sent["attachments"], 1)
	assert.Equal(t, orig.attachments[0].name, sent["attachments"].([]any)[0].(map[string]any)["name"])

	r = proxy(s, "POST", "/v1.0/me/messages/"+orig.id+"/forward", `{"comment":"to nobody"}`)
	assert.Equal(t, "ErrorInvalidRecipients", r.code(t))
	assert.Len(t, s.Sent(), 1)
}

func TestCreateReplyAndForwardMakeDrafts(t *testing.T) {
	s := newSim(t)
	orig := s.messageBySubject(t, "Renewal questions before our call")
	r := atGraph(s, "POST", "/v1.0/me/messages/"+orig.id+"/createReplyAll", `{"comment":"Draft answer"}`)
	require.Equal(t, 201, r.status, string(r.body))
	d := r.json(t)
	assert.Equal(t, true, d["isDraft"])
	assert.Equal(t, "RE: Renewal questions before our call", d["subject"])
	assert.Equal(t, []string{"elena.petrova@fabrikam.com", "marcus.chen@contoso.com"}, addresses(d["toRecipients"]))
	assert.Equal(t, []string{"tom.whitaker@fabrikam.com"}, addresses(d["ccRecipients"]))
	assert.Contains(t, d["body"].(map[string]any)["content"], "Draft answer")
	assert.Contains(t, d["body"].(map[string]any)["content"], "<b>Subject:</b> Renewal questions before our call")
	assert.Empty(t, s.Sent(), "a draft is not sent")
	assert.Contains(t, folderSubjects(t, s, "drafts"), "RE: Renewal questions before our call")

	// Sending the draft sends the answer.
	require.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+d["id"].(string)+"/send", "").status)
	assert.Equal(t, []string{"elena.petrova@fabrikam.com", "marcus.chen@contoso.com"}, addresses(sentAt(t, s, 0)["toRecipients"]))

	// Without a body at all; a subject that already has its prefix keeps it.
	again := s.messageBySubject(t, "FW: Renewal questions before our call")
	d = atGraph(s, "POST", "/v1.0/me/messages/"+again.id+"/createForward", "").json(t)
	assert.Equal(t, "FW: Renewal questions before our call", d["subject"])
	assert.Empty(t, d["toRecipients"])
	d = atGraph(s, "POST", "/v1.0/me/messages/"+again.id+"/createReply", "").json(t)
	assert.Equal(t, "RE: FW: Renewal questions before our call", d["subject"])
	assert.Equal(t, []string{"marcus.chen@contoso.com"}, addresses(d["toRecipients"]))
}

func TestSendingNeedsMailSendAndDraftsMailReadWrite(t *testing.T) {
	s := newSim(t, func(o *Options) { o.Scopes = []string{"User.Read", "Mail.ReadWrite"} })
	id := s.messageBySubject(t, "Lunch next week?").id
	draft := proxy(s, "POST", "/v1.0/me/messages/"+id+"/createReply", `{"comment":"Yes"}`)
	require.Equal(t, 200, draft.status, string(draft.body))
	draftID := draft.json(t)["id"].(string)
	assert.Equal(t, 200, proxy(s, "PATCH", "/v1.0/me/messages/"+draftID, `{"subject":"RE: Lunch"}`).status)
	assert.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages", `{"subject":"x"}`).status)
	for _, path := range []string{id + "/reply", id + "/replyAll", id + "/forward", draftID + "/send"} {
		r := proxy(s, "POST", "/v1.0/me/messages/"+path, `{}`)
		assert.Equal(t, 403, r.status, "Mail.ReadWrite does not send: %s", path)
		assert.Equal(t, "ErrorAccessDenied", r.code(t))
	}

	s.SetScopes("User.Read", "Mail.Send")
	assert.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+id+"/reply", `{"comment":"Yes"}`).status)
	assert.Equal(t, 200, proxy(s, "POST", "/v1.0/me/messages/"+draftID+"/send", ``).status)
	for _, path := range []string{"/v1.0/me/messages", "/v1.0/me/messages/" + id + "/createReply", "/v1.0/me/messages/" + id + "/createForward"} {
		assert.Equal(t, 403, proxy(s, "POST", path, `{}`).status, path)
	}
	assert.Equal(t, 403, proxy(s, "PATCH", "/v1.0/me/messages/"+id, `{"isRead":true}`).status)
}

func TestAFlagCarriesItsDueDay(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, "Q1 headcount ask – due Friday")
	day := map[string]any{"dateTime": graphDateTime(m.flagDue), "timeZone": "UTC"}
	assert.Equal(t, map[string]any{"flagStatus": "flagged", "startDateTime": day, "dueDateTime": day}, get(s, "/v1.0/me/messages/"+m.id+"?$select=flag").json(t)["flag"])
	assert.Equal(t, time.Friday, m.flagDue.Weekday())

	r := proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"flag":{"flagStatus":"flagged","dueDateTime":{"dateTime":"2026-12-04T00:00:00","timeZone":"UTC"}}}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, "2026-12-04T00:00:00.0000000", r.json(t)["flag"].(map[string]any)["dueDateTime"].(map[string]any)["dateTime"])
	r = proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"flag":{"flagStatus":"notFlagged"}}`)
	assert.Equal(t, map[string]any{"flagStatus": "notFlagged"}, r.json(t)["flag"], "no due day without a flag")
	assert.Equal(t, "RequestBodyRead", proxy(s, "PATCH", "/v1.0/me/messages/"+m.id, `{"flag":{"flagStatus":"flagged","dueDateTime":{"dateTime":"Friday","timeZone":"UTC"}}}`).code(t))
}

func TestAMeetingMessageExpandsItsEvent(t *testing.T) {
	s := newSim(t)
	m := s.messageBySubject(t, "Atlas launch readiness review")
	expand := "attachments($select=id,name),microsoft.graph.eventMessage/event($select=id,start,location,responseStatus)"
	got := get(s, "/v1.0/me/messages/"+m.id+q("$select", "subject", "$expand", expand)).json(t)
	assert.Equal(t, "#microsoft.graph.eventMessageRequest", got["@odata.type"])
	assert.Equal(t, []any{}, got["attachments"])
	ev, ok := got["event"].(map[string]any)
	require.True(t, ok, "%v", got)
	assert.Equal(t, m.meetingEvent, ev["id"])
	assert.Contains(t, ev, "start")
	assert.Contains(t, ev, "location")
	assert.NotContains(t, ev, "subject", "the event's own $select")

	plain := s.messageBySubject(t, "Q1 headcount ask – due Friday")
	got = get(s, "/v1.0/me/messages/"+plain.id+q("$expand", expand)).json(t)
	assert.NotContains(t, got, "event", "a message that is no meeting message ignores the cast")
	assert.Equal(t, 400, get(s, "/v1.0/me/messages/"+plain.id+q("$expand", "event")).status)
	assert.Equal(t, 400, get(s, "/v1.0/me/messages/"+m.id+q("$expand", "microsoft.graph.eventMessage/event($select=nope)")).status)
}
