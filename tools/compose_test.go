package tools

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// Fixture messages answered below.
const (
	// From Elena Petrova to Marcus Chen, cc the user (Priya Raman) and Tom Whitaker.
	renewal = "Renewal questions before our call"
	// From Daniel O'Brien, with one attachment.
	q4Plan = `O'Brien's "Q4" plan – please review before Thursday`
	elena  = "Elena Petrova <elena.petrova@fabrikam.com>"
)

// idOf finds a message by its exact subject, as a model would.
func (h *harness) idOf(subject string) string {
	h.t.Helper()
	var res SearchMailResult
	h.ok("search_mail", map[string]any{"limit": 50}, &res)
	for _, m := range res.Messages {
		if m.Subject == subject {
			return m.ID
		}
	}
	h.t.Fatalf("no message %q", subject)
	return ""
}

// inFolder lists a folder's messages, newest first.
func (h *harness) inFolder(folder string) []MessageSummary {
	h.t.Helper()
	var all []MessageSummary
	args := map[string]any{"folder": folder, "limit": 50}
	for range 20 { // the response budget may page where limit would not
		var res SearchMailResult
		h.ok("search_mail", args, &res)
		all = append(all, res.Messages...)
		if res.NextCursor == "" {
			break
		}
		args["cursor"] = res.NextCursor
	}
	return all
}

// graphIDs are the Graph ids of messages listed with handles.
func (h *harness) graphIDs(ms []MessageSummary) []string {
	var out []string
	for _, m := range ms {
		out = append(out, h.graphID(m.ID))
	}
	return out
}

// graphIDs2 are the Graph ids of handles.
func (h *harness) graphIDs2(handles []string) []string {
	var out []string
	for _, id := range handles {
		out = append(out, h.graphID(id))
	}
	return out
}

// sent decodes the i-th message the simulator saw leave.
func (h *harness) sent(i int) map[string]any {
	h.t.Helper()
	all := h.sim.Sent()
	require.Greater(h.t, len(all), i, "only %d messages left", len(all))
	var m map[string]any
	require.NoError(h.t, json.Unmarshal(all[i], &m))
	return m
}

func addressesOf(v any) []string {
	out := []string{}
	for _, r := range v.([]any) {
		out = append(out, r.(map[string]any)["emailAddress"].(map[string]any)["address"].(string))
	}
	return out
}

// writes are the Graph requests that could change the mailbox.
func (h *harness) writes() []sim.Request {
	var out []sim.Request
	for _, r := range h.graph("/v1.0/") {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

func TestReplySendsTheCommentToTheSender(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(renewal)
	var res ComposeResult
	text := h.ok("reply_to_message", map[string]any{"message_id": id, "body": "Thanks, Elena.\nThursday works."}, &res)

	assert.Equal(t, "sent", res.Status)
	assert.Equal(t, []string{elena}, res.To)
	assert.Empty(t, res.Cc)
	assert.Empty(t, res.DraftID)
	assert.Equal(t, "Sent reply to ⟦data M⟧"+elena+"⟦end M⟧. Outlook accepted it for delivery; a copy is in Sent Items.", unmarked(text))

	req := h.lastGraph("/v1.0/me/messages/" + h.graphID(id) + "/reply")
	assert.Equal(t, "POST", req.Method)
	assert.JSONEq(t, `{"comment":"Thanks, Elena.\nThursday works."}`, string(req.Body))

	require.Len(t, h.sim.Sent(), 1)
	sent := h.sent(0)
	assert.Equal(t, []string{"elena.petrova@fabrikam.com"}, addressesOf(sent["toRecipients"]))
	assert.Contains(t, sent["body"].(map[string]any)["content"], "<b>From:</b> Elena Petrova", "the original is quoted")
	assert.Equal(t, "RE: "+renewal, h.inFolder("sentitems")[0].Subject)
}

func TestReplyAllLeavesTheUserOut(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(renewal)
	var res ComposeResult
	text := h.ok("reply_to_message", map[string]any{"message_id": id, "body": "See you all Thursday.", "reply_all": true}, &res)

	assert.Equal(t, []string{elena, "Marcus Chen <marcus.chen@contoso.com>"}, res.To)
	assert.Equal(t, []string{"Tom Whitaker <tom.whitaker@fabrikam.com>"}, res.Cc)
	assert.Contains(t, unmarked(text), "Sent reply to ⟦data M⟧"+elena+", Marcus Chen <marcus.chen@contoso.com>; cc Tom Whitaker <tom.whitaker@fabrikam.com>⟦end M⟧.")
	assert.JSONEq(t, `{"comment":"See you all Thursday."}`, string(h.lastGraph("/v1.0/me/messages/"+h.graphID(id)+"/replyAll").Body))

	sent := h.sent(0)
	assert.Equal(t, []string{"elena.petrova@fabrikam.com", "marcus.chen@contoso.com"}, addressesOf(sent["toRecipients"]), "what the tool said is what Outlook did")
	assert.Equal(t, []string{"tom.whitaker@fabrikam.com"}, addressesOf(sent["ccRecipients"]))
}

func TestHTMLReplyGoesInTheMessageBody(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(renewal)
	h.ok("reply_to_message", map[string]any{"message_id": id, "body": "<p>Thursday <b>works</b>.</p>", "body_format": "html"}, nil)
	assert.JSONEq(t, `{"message":{"body":{"contentType":"HTML","content":"<p>Thursday <b>works</b>.</p>"}}}`,
		string(h.lastGraph("/v1.0/me/messages/"+h.graphID(id)+"/reply").Body), "never comment and message.body together: Graph answers 400")
	assert.True(t, strings.HasPrefix(h.sent(0)["body"].(map[string]any)["content"].(string), "<p>Thursday <b>works</b>.</p>"))
}

func TestReplyDraftIsSavedThenSent(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(renewal)
	var draft ComposeResult
	text := h.ok("reply_to_message", map[string]any{"message_id": id, "body": "Draft: Thursday works.", "reply_all": true, "draft_only": true}, &draft)

	assert.Equal(t, "drafted", draft.Status)
	require.NotEmpty(t, draft.DraftID)
	assert.True(t, strings.HasPrefix(draft.WebLink, "https://outlook.office365.com/owa/?ItemID="), draft.WebLink)
	assert.Equal(t, "RE: "+renewal, draft.Subject)
	assert.Equal(t, []string{elena, "Marcus Chen <marcus.chen@contoso.com>"}, draft.To)
	assert.True(t, strings.HasPrefix(text, "Draft saved: id "+draft.DraftID+", open in Outlook: "+draft.WebLink+"\n"), text)
	assert.Contains(t, text, "Not sent")
	req := h.lastGraph("/v1.0/me/messages/" + h.graphID(id) + "/createReplyAll")
	assert.JSONEq(t, `{"comment":"Draft: Thursday works."}`, string(req.Body))
	assert.Contains(t, req.Header.Get("Prefer"), `IdType="ImmutableId"`, "a draft id that survives moves")
	assert.Empty(t, h.sim.Sent(), "nothing was sent")
	assert.Empty(t, h.graph("/v1.0/me/messages/"+h.graphID(id)+"/replyAll"))
	assert.Contains(t, h.graphIDs(h.inFolder("drafts")), h.graphID(draft.DraftID))

	var sent ComposeResult
	text = h.ok("send_draft", map[string]any{"draft_id": draft.DraftID}, &sent)
	assert.Equal(t, "sent", sent.Status)
	assert.Equal(t, draft.To, sent.To)
	assert.Equal(t, "Sent the draft ⟦data M⟧RE: "+renewal+"⟦end M⟧ to ⟦data M⟧"+elena+", Marcus Chen <marcus.chen@contoso.com>; cc Tom Whitaker <tom.whitaker@fabrikam.com>⟦end M⟧. Outlook accepted it for delivery; a copy is in Sent Items.", unmarked(text))
	req = h.lastGraph("/v1.0/me/messages/" + h.graphID(draft.DraftID) + "/send")
	assert.Equal(t, "POST", req.Method)
	assert.Empty(t, req.Body)
	assert.NotContains(t, h.graphIDs(h.inFolder("drafts")), h.graphID(draft.DraftID), "it left Drafts")
	assert.Equal(t, "RE: "+renewal, h.inFolder("sentitems")[0].Subject)
	assert.Equal(t, []string{"elena.petrova@fabrikam.com", "marcus.chen@contoso.com"}, addressesOf(h.sent(0)["toRecipients"]))
}

func TestForwardSendsOrDrafts(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(q4Plan)
	var res ComposeResult
	text := h.ok("forward_message", map[string]any{"message_id": id, "to": []string{"Ann Fischer <ann.fischer@contoso.com>"}, "comment": "FYI, see section 2."}, &res)
	assert.Equal(t, "sent", res.Status)
	assert.Equal(t, []string{"Ann Fischer <ann.fischer@contoso.com>"}, res.To)
	assert.True(t, strings.HasPrefix(unmarked(text), "Forwarded to ⟦data M⟧Ann Fischer <ann.fischer@contoso.com>⟦end M⟧."), text)
	assert.JSONEq(t, `{"comment":"FYI, see section 2.","toRecipients":[{"emailAddress":{"name":"Ann Fischer","address":"ann.fischer@contoso.com"}}]}`,
		string(h.lastGraph("/v1.0/me/messages/"+h.graphID(id)+"/forward").Body))
	sent := h.sent(0)
	assert.Equal(t, "FW: "+q4Plan, sent["subject"])
	assert.Len(t, sent["attachments"], 1, "a forward carries the attachments")

	var draft ComposeResult
	h.ok("forward_message", map[string]any{"message_id": id, "to": []string{"kenji.watanabe@contoso.com"}, "draft_only": true}, &draft)
	assert.Equal(t, "drafted", draft.Status)
	assert.Equal(t, []string{"kenji.watanabe@contoso.com"}, draft.To)
	assert.JSONEq(t, `{"toRecipients":[{"emailAddress":{"name":"","address":"kenji.watanabe@contoso.com"}}]}`,
		string(h.lastGraph("/v1.0/me/messages/"+h.graphID(id)+"/createForward").Body), "no comment when none is given")
	assert.Len(t, h.sim.Sent(), 1)
}

func TestCreateDraftThenSendIt(t *testing.T) {
	h := newHarness(t)
	var draft ComposeResult
	text := h.ok("create_draft", map[string]any{
		"to": []string{"Ann Fischer <ann.fischer@contoso.com>"}, "cc": []string{"marcus.chen@contoso.com"},
		"subject": "DPA redlines", "body": "<p>Comments <b>inline</b>.</p>", "body_format": "html",
	}, &draft)
	assert.Equal(t, "drafted", draft.Status)
	assert.Equal(t, "DPA redlines", draft.Subject)
	assert.Equal(t, []string{"Ann Fischer <ann.fischer@contoso.com>"}, draft.To)
	assert.Equal(t, []string{"marcus.chen@contoso.com"}, draft.Cc)
	assert.Contains(t, text, "Draft saved: id "+draft.DraftID+", open in Outlook: https://outlook.office365.com/")
	assert.Contains(t, text, "To: Ann Fischer <ann.fischer@contoso.com>; cc marcus.chen@contoso.com")
	req := h.lastGraph("/v1.0/me/messages")
	assert.Equal(t, "POST", req.Method)
	assert.JSONEq(t, `{"subject":"DPA redlines","body":{"contentType":"HTML","content":"<p>Comments <b>inline</b>.</p>"},
		"toRecipients":[{"emailAddress":{"name":"Ann Fischer","address":"ann.fischer@contoso.com"}}],
		"ccRecipients":[{"emailAddress":{"name":"","address":"marcus.chen@contoso.com"}}]}`, string(req.Body))
	assert.Equal(t, h.graphID(draft.DraftID), h.graphID(h.inFolder("drafts")[0].ID))
	assert.Empty(t, h.sim.Sent())

	var sent ComposeResult
	h.ok("send_draft", map[string]any{"draft_id": draft.DraftID}, &sent)
	assert.Equal(t, "DPA redlines", sent.Subject)
	assert.Equal(t, "DPA redlines", h.sent(0)["subject"])
	assert.NotContains(t, h.graphIDs(h.inFolder("drafts")), h.graphID(draft.DraftID))

	// Sent now, it is no draft any more: it is not sent twice.
	msg := h.fails("send_draft", map[string]any{"draft_id": h.inFolder("sentitems")[0].ID})
	assert.Contains(t, msg, `"draft_id": is not a draft`)
	assert.Len(t, h.writes(), 2, "the draft's creation and one send")
	assert.Len(t, h.sim.Sent(), 1)
}

// The tools list both scopes; each mode needs its own.
func TestComposeModesNeedTheirOwnScope(t *testing.T) {
	t.Run("Mail.ReadWrite saves drafts but does not send", func(t *testing.T) {
		h := newHarness(t, withScopes("User.Read", "Mail.ReadWrite", "offline_access"))
		id := h.idOf(renewal)
		var draft ComposeResult
		h.ok("reply_to_message", map[string]any{"message_id": id, "body": "Thursday works.", "draft_only": true}, &draft)
		assert.Equal(t, "drafted", draft.Status)

		msg := h.fails("reply_to_message", map[string]any{"message_id": id, "body": "Thursday works."})
		assert.Contains(t, msg, "reply_to_message needs the Microsoft Graph delegated permission Mail.Send to send, which Nango connection \"sandbox\"")
		assert.Contains(t, msg, "Granted now: Mail.ReadWrite, offline_access, User.Read.")
		assert.Contains(t, msg, "https://connect.nango.dev/?session_token=")
		assert.Contains(t, msg, "draft_only=true saves it as a draft", "the way that works with what is granted")
		assert.Contains(t, h.fails("forward_message", map[string]any{"message_id": id, "to": []string{"ann.fischer@contoso.com"}}),
			"forward_message needs the Microsoft Graph delegated permission Mail.Send to send")
		assert.Contains(t, h.fails("send_draft", map[string]any{"draft_id": draft.DraftID}), "send_draft needs the Microsoft Graph delegated permission Mail.Send,")
		for _, r := range h.writes() {
			assert.NotRegexp(t, `/(reply|replyAll|forward|send)$`, r.Path, "refused before Graph")
		}
		assert.Empty(t, h.sim.Sent())
	})
	t.Run("Mail.Send sends but does not save drafts", func(t *testing.T) {
		h := newHarness(t, withScopes("User.Read", "Mail.Send", "offline_access"))
		other := newHarness(t)                   // the same fixture: Mail.Send alone cannot search
		id := other.graphID(other.idOf(renewal)) // a full Graph id works as well as a handle
		var res ComposeResult
		text := h.ok("reply_to_message", map[string]any{"message_id": id, "body": "Thursday works."}, &res)
		assert.Equal(t, "sent", res.Status)
		assert.Empty(t, res.To, "Mail.Send cannot read whom the original came from")
		assert.Contains(t, text, "Sent reply. Outlook accepted it")
		assert.Contains(t, text, "It goes to the original's sender")
		assert.Equal(t, []string{"elena.petrova@fabrikam.com"}, addressesOf(h.sent(0)["toRecipients"]))

		msg := h.fails("reply_to_message", map[string]any{"message_id": id, "body": "Thursday works.", "draft_only": true})
		assert.Contains(t, msg, "reply_to_message needs the Microsoft Graph delegated permission Mail.ReadWrite to save a draft (draft_only)")
		assert.NotContains(t, msg, "Alternatively")
		assert.Contains(t, h.fails("create_draft", map[string]any{"subject": "x"}), "create_draft needs the Microsoft Graph delegated permission Mail.ReadWrite,")
		assert.Empty(t, h.graph("/v1.0/me/messages/"+id+"/createReply"))
		assert.Len(t, h.sim.Sent(), 1)
	})
	t.Run("neither", func(t *testing.T) {
		h := newHarness(t, withScopes("User.Read"))
		msg := h.fails("reply_to_message", map[string]any{"message_id": "AAMkAGI2TG93AAA=", "body": "hi"})
		assert.Contains(t, msg, "permission Mail.Send (or any of Mail.ReadWrite), which")
	})
	t.Run("unknown scopes: a 403 names the mode's scope", func(t *testing.T) {
		h := newHarness(t, withScopes("User.Read", "Mail.ReadWrite"), withSim(func(o *sim.Options) { o.HideCredentials = true }))
		msg := h.fails("reply_to_message", map[string]any{"message_id": h.idOf(renewal), "body": "hi"})
		assert.Contains(t, msg, "reply_to_message needs Mail.Send to send.")
		assert.Empty(t, h.sim.Sent())
	})
}

func TestReplyIsNeverSentTwice(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(renewal)
	// Outlook sent the reply, then the answer failed: retrying would send it again.
	h.sim.Inject(sim.Fault{Method: "POST", Path: "/v1.0/me/messages/" + h.graphID(id) + "/reply", Status: 503, AfterEffect: true})
	msg := h.fails("reply_to_message", map[string]any{"message_id": id, "body": "Once."})
	assert.Contains(t, msg, "may or may not have taken effect")
	assert.Contains(t, msg, "NOT retried")
	assert.Len(t, h.graph("/v1.0/me/messages/"+h.graphID(id)+"/reply"), 1, "exactly one attempt")
	assert.Len(t, h.sim.Sent(), 1)
}

func TestComposeRejectsBadInputWithoutWriting(t *testing.T) {
	h := newHarness(t)
	id := h.idOf(renewal)
	big := base64.StdEncoding.EncodeToString(make([]byte, 2<<20))
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"reply_to_message", map[string]any{"body": "hi"}, `"message_id": is required`},
		{"reply_to_message", map[string]any{"message_id": id}, `"body": is required`},
		{"reply_to_message", map[string]any{"message_id": id, "body": "  \n "}, `"body": is required`},
		{"reply_to_message", map[string]any{"message_id": id, "body": "hi", "body_format": "markdown"}, `"body_format"`},
		{"reply_to_message", map[string]any{"message_id": id, "body": "hi", "reply_all": "yes"}, `"reply_all": must be true or false`},
		{"forward_message", map[string]any{"message_id": id}, `"to": is required`},
		{"forward_message", map[string]any{"message_id": id, "to": []string{"ann@"}}, `"to": "ann@" is not an email address`},
		{"create_draft", map[string]any{"cc": []string{"x y"}}, `"cc": "x y" is not an email address`},
		{"create_draft", map[string]any{}, "nothing to draft"},
		{"send_draft", map[string]any{}, `"draft_id": is required`},
		{"send_draft", map[string]any{"draft_id": id}, `"draft_id": is not a draft`},
		{"send_mail", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "s", "body": "b", "reply_to": []string{"team@"}}, `"reply_to": "team@" is not an email address`},
		{"send_mail", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "s", "body": "b",
			"attachments": []map[string]any{{"content_base64": "aGk="}}}, `"attachments": attachment 1 has no name`},
		{"send_mail", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "s", "body": "b",
			"attachments": []map[string]any{{"name": "a.pdf", "content_base64": "not base64!"}}}, `"attachments": the content_base64 of "a.pdf" is not valid base64`},
		{"send_mail", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "s", "body": "b",
			"attachments": []map[string]any{{"name": "a.bin", "content_base64": big}, {"name": "b.bin", "content_base64": big}}},
			`"attachments": total 4.0 MB, more than the 3.0 MB Outlook takes`},
		{"send_mail", map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "s", "body": "b",
			"attachments": []map[string]any{{"name": "a.pdf", "content_base64": "aGk=", "size": 2}}}, `"size": is not an argument`},
	} {
		assert.Contains(t, h.fails(tc.tool, tc.args), tc.want, "%s %v", tc.tool, tc.args)
	}
	assert.Empty(t, h.writes())
	assert.Empty(t, h.sim.Sent())
}

func TestSendMailAttachesFilesAndSetsReplyTo(t *testing.T) {
	h := newHarness(t)
	png := []byte("\x89PNG\r\n\x1a\n")
	var res SendMailResult
	text := h.ok("send_mail", map[string]any{
		"to": []string{"ann.fischer@contoso.com"}, "subject": "Files", "body": "Attached.",
		"reply_to": []string{"Atlas team <atlas@contoso.com>"},
		"attachments": []map[string]any{
			{"name": "notes.txt", "content_base64": "aGVs\nbG8"}, // wrapped, unpadded
			{"name": "chart", "content_base64": base64.StdEncoding.EncodeToString(png), "content_type": "image/png"},
		},
	}, &res)
	assert.Equal(t, []string{"notes.txt (5 B)", "chart (8 B)"}, res.Attachments)
	assert.Equal(t, []string{"Atlas team <atlas@contoso.com>"}, res.ReplyTo)
	assert.Contains(t, text, "; replies to Atlas team <atlas@contoso.com>; attached notes.txt (5 B), chart (8 B). A copy is in Sent Items.")

	var body struct {
		Message map[string]json.RawMessage `json:"message"`
	}
	require.NoError(t, json.Unmarshal(h.lastGraph("/v1.0/me/sendMail").Body, &body))
	assert.JSONEq(t, `[
		{"@odata.type":"#microsoft.graph.fileAttachment","name":"notes.txt","contentType":"text/plain; charset=utf-8","contentBytes":"aGVsbG8="},
		{"@odata.type":"#microsoft.graph.fileAttachment","name":"chart","contentType":"image/png","contentBytes":"iVBORw0KGgo="}]`,
		string(body.Message["attachments"]))
	assert.JSONEq(t, `[{"emailAddress":{"name":"Atlas team","address":"atlas@contoso.com"}}]`, string(body.Message["replyTo"]))

	// The copy in Sent Items carries them.
	var msg MessageResult
	h.ok("get_message", map[string]any{"id": h.idOf("Files")}, &msg)
	require.Len(t, msg.Attachments, 2)
	assert.Equal(t, "notes.txt", msg.Attachments[0].Name)
	assert.Equal(t, "image/png", msg.Attachments[1].ContentType)
}
