package tools

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Composing mail: replies, forwards and drafts. Sending and saving a draft
// are separate permissions (Mail.ReadWrite does not include sending), so a
// tool that can do either lists both scopes and checks its mode's own
// scope once the arguments say which (composeMode).

// composeScopes: either lets reply_to_message or forward_message in.
var composeScopes = []string{"Mail.Send", "Mail.ReadWrite"}

// The modes of a composing tool: save a draft or send.
var (
	draftNeed = scopeNeed{scopes: []string{"Mail.ReadWrite"}, mode: "draft_only", purpose: "to save a draft (draft_only)"}
	sendNeed  = scopeNeed{scopes: []string{"Mail.Send"}, mode: "send", purpose: "to send"}
)

// composing declares a composing tool's modes, for get_profile and prompts.
func composing(t Tool) Tool {
	t.modes = []scopeNeed{draftNeed, sendNeed}
	return t
}

// composeMode narrows the call's scope to what it will do: send (Mail.Send)
// or save a draft (Mail.ReadWrite).
func composeMode(c *Call, draftOnly bool) error {
	if draftOnly {
		return c.require(draftNeed)
	}
	need := sendNeed
	if c.Granted.Known() && c.Granted.Has("Mail.ReadWrite") {
		need.hint = "Alternatively, draft_only=true saves it as a draft, which the granted Mail.ReadWrite allows; the user can then review and send it from Outlook."
	}
	return c.require(need)
}

// ComposeResult is what a composing tool did: sent, or saved a draft.
type ComposeResult struct {
	Status  string   `json:"status" jsonschema:"enum=sent,enum=drafted" jsonschema_description:"sent: Outlook accepted it for delivery (not yet delivered); drafted: saved in Drafts, not sent."`
	DraftID string   `json:"draft_id,omitempty" handle:"d" jsonschema_description:"The draft's id, for send_draft."`
	WebLink string   `json:"web_link,omitempty" jsonschema_description:"Opens the draft in Outlook on the web."`
	Subject string   `json:"subject,omitempty"`
	To      []string `json:"to,omitempty"`
	Cc      []string `json:"cc,omitempty"`
	Bcc     []string `json:"bcc,omitempty"`
	Note    string   `json:"note,omitempty"`

	done string // what was sent, for the text: "Sent reply", "Forwarded"
}

func (r *ComposeResult) Text() string {
	var b strings.Builder
	if r.Status == "drafted" {
		// A reply's subject and recipients' names come from the original.
		head := "Subject: " + orNone(r.Subject)
		if len(r.To)+len(r.Cc)+len(r.Bcc) > 0 {
			head += "\nTo: " + recipientsText(r.To, r.Cc, r.Bcc)
		}
		fmt.Fprintf(&b, "Draft saved: id %s, open in Outlook: %s\n%s", r.DraftID, r.WebLink, untrusted(head))
		b.WriteString("\nNot sent: the user can review and send it in Outlook, or it can be sent with send_draft.")
	} else {
		b.WriteString(r.done)
		if len(r.To)+len(r.Cc)+len(r.Bcc) > 0 {
			b.WriteString(" to " + untrusted(recipientsText(r.To, r.Cc, r.Bcc)))
		}
		b.WriteString(". Outlook accepted it for delivery; a copy is in Sent Items.")
	}
	if r.Note != "" {
		b.WriteString("\nNote: " + r.Note)
	}
	return b.String()
}

// saveDraft creates a draft (POST /me/messages, or a create* action of a
// message) and reports it, with an id that survives moves.
func saveDraft(ctx context.Context, c *Call, path string, body any) (*ComposeResult, error) {
	var d graphMessage
	err := c.Conn.Do(ctx, nango.Request{Method: http.MethodPost, Path: path, Body: body, Header: http.Header{"Prefer": {preferImmutableID}}}, &d)
	if err != nil {
		return nil, err
	}
	return &ComposeResult{
		Status: "drafted", DraftID: d.ID, WebLink: d.WebLink, Subject: d.Subject,
		To: addressList(d.ToRecipients), Cc: addressList(d.CcRecipients), Bcc: addressList(d.BccRecipients),
	}, nil
}

// addressList is recipients as "Name <address>" strings.
func addressList(rs []graphRecipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.person().String())
	}
	return out
}

// peek reads some fields of a message when the granted scopes allow reading
// it: Mail.Send alone does not, and then ok is false.
func peek(ctx context.Context, c *Call, id, fields string) (m graphMessage, ok bool, err error) {
	if !c.Granted.HasAny(getMessage.Scopes...) {
		return m, false, nil
	}
	err = get(ctx, c, messagePath(id), "", url.Values{"$select": {fields}}, nil, &m)
	if e, isGraph := nango.AsError(err); isGraph && e.Kind == nango.KindAccessDenied {
		return m, false, nil
	}
	return m, err == nil, err
}

// ---- reply_to_message ----

type ReplyArgs struct {
	MessageID  string `json:"message_id" handle:"md" jsonschema_description:"Id of the message to answer, from search_mail or get_message."`
	Body       string `max:"1048576" json:"body" jsonschema_description:"The reply. The original message is quoted below it."`
	BodyFormat string `json:"body_format,omitempty" jsonschema:"enum=text,enum=html,default=text"`
	ReplyAll   bool   `json:"reply_all,omitempty" jsonschema_description:"Answer the sender and everyone else on the message (cc stays cc), not only the sender."`
	DraftOnly  bool   `json:"draft_only,omitempty" jsonschema_description:"Save the reply in Drafts for the user to review, instead of sending it."`
}

var replyToMessage = composing(define("reply_to_message", "Reply to a message",
	"Reply to an email as the user: to its sender, or with reply_all to everyone on it, in the same conversation with the original quoted below. It is sent at once and cannot be undone: confirm the text with the user first, or set draft_only to save it in Drafts (returns the draft's id and a link to open it in Outlook).",
	composeScopes,
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in ReplyArgs) (*ComposeResult, error) {
		id, err := messageID("message_id", in.MessageID)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(in.Body) == "" {
			return nil, argError("body", "is required")
		}
		body, err := itemBody(in.BodyFormat, in.Body)
		if err != nil {
			return nil, err
		}
		if err := composeMode(c, in.DraftOnly); err != nil {
			return nil, err
		}
		// Text goes in Graph's comment, HTML in message.body: never both (400).
		req := map[string]any{"comment": in.Body}
		if body["contentType"] == "HTML" {
			req = map[string]any{"message": map[string]any{"body": body}}
		}
		send, create := "/reply", "/createReply"
		if in.ReplyAll {
			send, create = "/replyAll", "/createReplyAll"
		}
		if in.DraftOnly {
			return saveDraft(ctx, c, messagePath(id)+create, req)
		}
		out := &ComposeResult{Status: "sent", done: "Sent reply"}
		if err := out.addressReply(ctx, c, id, in.ReplyAll); err != nil {
			return nil, err
		}
		if err := post(ctx, c, messagePath(id)+send, req, nil); err != nil {
			return nil, err
		}
		return out, nil
	}))

// addressReply says whom the reply goes to, addressed as Outlook does: the
// original's replyTo, else its sender (answering one's own message: its
// recipients); reply-all adds everyone on it; never the user. That takes
// reading the message and the user's address: without the scopes, the
// note says so instead.
func (r *ComposeResult) addressReply(ctx context.Context, c *Call, id string, all bool) error {
	address := func() string { return "" }
	if c.Granted.HasAny(getMessage.Scopes...) {
		address = myAddress(ctx, c)
	}
	orig, ok, err := peek(ctx, c, id, "from,replyTo,toRecipients,ccRecipients")
	self := address() // waited for even after an error: no request outlives its call
	if err != nil {
		return err
	}
	const whom = "It goes to the original's sender (with reply_all also to everyone else on it), who cannot be listed here: "
	switch {
	case !ok:
		r.Note = whom + "reading the original needs Mail.Read."
		return nil
	case self == "":
		r.Note = whom + "leaving the user out needs the user's address, which could not be read (User.Read)."
		return nil
	}
	var to, cc []Person
	switch {
	case len(orig.ReplyTo) > 0:
		to = people(orig.ReplyTo)
	case strings.EqualFold(orig.sender().Address, self):
		to = people(orig.ToRecipients)
	default:
		to = []Person{orig.sender()}
	}
	if all {
		to, cc = append(to, people(orig.ToRecipients)...), people(orig.CcRecipients)
	}
	r.To, r.Cc = others(to, self), others(cc, self)
	return nil
}

// others drops the user, empty addresses and repeats from ps.
func others(ps []Person, self string) []string {
	var out []string
	seen := map[string]bool{"": true, strings.ToLower(self): true}
	for _, p := range ps {
		if a := strings.ToLower(p.Address); !seen[a] {
			seen[a] = true
			out = append(out, p.String())
		}
	}
	return out
}

// ---- forward_message ----

type ForwardArgs struct {
	MessageID string   `json:"message_id" handle:"md" jsonschema_description:"Id of the message to forward, from search_mail or get_message."`
	To        []string `max:"500" json:"to" jsonschema_description:"Recipients: name@example.com or \"Name <name@example.com>\"."`
	Comment   string   `max:"1048576" json:"comment,omitempty" jsonschema_description:"Text above the forwarded message."`
	DraftOnly bool     `json:"draft_only,omitempty" jsonschema_description:"Save the forward in Drafts for the user to review, instead of sending it."`
}

var forwardMessage = composing(define("forward_message", "Forward a message",
	"Forward an email, with its attachments, as the user to the given recipients, with an optional comment above it. It is sent at once and cannot be undone: confirm the recipients with the user first, or set draft_only to save it in Drafts (returns the draft's id and a link to open it in Outlook).",
	composeScopes,
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in ForwardArgs) (*ComposeResult, error) {
		id, err := messageID("message_id", in.MessageID)
		if err != nil {
			return nil, err
		}
		out := &ComposeResult{Status: "sent", done: "Forwarded"}
		recipients, err := recipientList("to", in.To, &out.To)
		if err != nil {
			return nil, err
		}
		if err := composeMode(c, in.DraftOnly); err != nil {
			return nil, err
		}
		req := map[string]any{"toRecipients": recipients}
		if strings.TrimSpace(in.Comment) != "" {
			req["comment"] = in.Comment
		}
		if in.DraftOnly {
			return saveDraft(ctx, c, messagePath(id)+"/createForward", req)
		}
		if err := post(ctx, c, messagePath(id)+"/forward", req, nil); err != nil {
			return nil, err
		}
		return out, nil
	}))

// ---- create_draft ----

type CreateDraftArgs struct {
	To         []string `max:"500" json:"to,omitempty" jsonschema_description:"Recipients: name@example.com or \"Name <name@example.com>\"."`
	Cc         []string `max:"500" json:"cc,omitempty"`
	Bcc        []string `max:"500" json:"bcc,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	Body       string   `max:"1048576" json:"body,omitempty"`
	BodyFormat string   `json:"body_format,omitempty" jsonschema:"enum=text,enum=html,default=text"`
}

var createDraft = define("create_draft", "Create a draft",
	"Save a new email in the user's Drafts without sending it, for the user to review and send from Outlook (or with send_draft). Returns the draft's id and a link to open it in Outlook. Every call makes a new draft.",
	[]string{"Mail.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in CreateDraftArgs) (*ComposeResult, error) {
		msg := map[string]any{}
		if _, _, _, err := putRecipients(msg, in.To, in.Cc, in.Bcc); err != nil {
			return nil, err
		}
		body, err := itemBody(in.BodyFormat, in.Body)
		if err != nil {
			return nil, err
		}
		if in.Body != "" {
			msg["body"] = body
		}
		if in.Subject != "" {
			msg["subject"] = in.Subject
		}
		if len(msg) == 0 {
			return nil, &inputError{msg: "nothing to draft: give at least one of to, cc, bcc, subject and body"}
		}
		return saveDraft(ctx, c, "/me/messages", msg)
	})

// ---- send_draft ----

type SendDraftArgs struct {
	DraftID string `json:"draft_id" handle:"dm" jsonschema_description:"Id of a draft: from create_draft, from reply_to_message or forward_message with draft_only, or from search_mail with folder drafts."`
}

var sendDraft = define("send_draft", "Send a draft",
	"Send a draft from the user's Drafts now, as it is; it moves to Sent Items. It cannot be undone: confirm with the user first.",
	[]string{"Mail.Send"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in SendDraftArgs) (*ComposeResult, error) {
		id, err := messageID("draft_id", in.DraftID)
		if err != nil {
			return nil, err
		}
		out := &ComposeResult{Status: "sent", done: "Sent the draft"}
		d, ok, err := peek(ctx, c, id, "subject,isDraft,toRecipients,ccRecipients,bccRecipients")
		switch {
		case err != nil:
			return nil, err
		case !ok:
			out.Note = "Its subject and recipients are not listed: reading the draft needs Mail.Read."
		case !d.IsDraft:
			return nil, argError("draft_id", "is not a draft: that message was already sent or received. To answer it, use reply_to_message or forward_message")
		case len(d.ToRecipients)+len(d.CcRecipients)+len(d.BccRecipients) == 0:
			return nil, argError("draft_id", "the draft %q has no recipients: add them in Outlook first", d.Subject)
		default:
			out.done = "Sent the draft " + untrusted(d.Subject)
			out.Subject = d.Subject
			out.To, out.Cc, out.Bcc = addressList(d.ToRecipients), addressList(d.CcRecipients), addressList(d.BccRecipients)
		}
		if err := post(ctx, c, messagePath(id)+"/send", nil, nil); err != nil {
			return nil, err
		}
		return out, nil
	})
