package sim

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Composing mail: drafts (POST /me/messages, PATCH), sending a draft, and
// the answers Outlook composes from a message (reply, replyAll, forward and
// their create* drafts). Every message written by a request passes through
// the one table of writable properties below.

// propScope is which messages a property may be written on.
type propScope int

const (
	anyMessage propScope = iota // e.g. isRead, flag
	draftOnly                   // content: Exchange freezes it once a message is sent or received
	createOnly                  // only in the request that creates the message
)

// messageProp is one writable property of microsoft.graph.message.
type messageProp struct {
	scope propScope
	set   func(m *message, v json.RawMessage) error
}

var messageProps = map[string]messageProp{
	"subject":                 {draftOnly, func(m *message, v json.RawMessage) error { return decodeProp("subject", v, &m.subject) }},
	"body":                    {draftOnly, setBody},
	"toRecipients":            {draftOnly, setRecipients("toRecipients", func(m *message) *[]recipient { return &m.to })},
	"ccRecipients":            {draftOnly, setRecipients("ccRecipients", func(m *message) *[]recipient { return &m.cc })},
	"bccRecipients":           {draftOnly, setRecipients("bccRecipients", func(m *message) *[]recipient { return &m.bcc })},
	"replyTo":                 {draftOnly, setRecipients("replyTo", func(m *message) *[]recipient { return &m.replyTo })},
	"importance":              {anyMessage, setEnum("importance", "microsoft.graph.importance", func(m *message) *string { return &m.importance }, "low", "normal", "high")},
	"inferenceClassification": {anyMessage, setEnum("inferenceClassification", "microsoft.graph.inferenceClassificationType", func(m *message) *string { return &m.inference }, "focused", "other")},
	"isRead":                  {anyMessage, func(m *message, v json.RawMessage) error { return decodeProp("isRead", v, &m.isRead) }},
	"categories":              {anyMessage, func(m *message, v json.RawMessage) error { return decodeProp("categories", v, &m.categories) }},
	"flag":                    {anyMessage, setFlag},
	"attachments":             {createOnly, setAttachments},
	// Accepted and not modelled: sending as someone else, receipts, headers.
	"from":                       {draftOnly, ignoreProp},
	"sender":                     {draftOnly, ignoreProp},
	"internetMessageHeaders":     {draftOnly, ignoreProp},
	"isDeliveryReceiptRequested": {draftOnly, ignoreProp},
	"isReadReceiptRequested":     {draftOnly, ignoreProp},
}

// setProps writes the properties of a message object from a request body,
// all or none: an unknown property, or one the message cannot take, is a
// 400 that changes nothing.
func setProps(m *message, body []byte, creating bool) error {
	var props map[string]json.RawMessage
	if err := strictJSON(body, &props, "microsoft.graph.message"); err != nil {
		return err
	}
	next := *m // setters replace slices, never change them in place
	for _, name := range slices.Sorted(maps.Keys(props)) {
		p, ok := messageProps[name]
		switch {
		case !ok || (p.scope == createOnly && !creating):
			return noSuchProperty(name, "microsoft.graph.message")
		case p.scope == draftOnly && !m.isDraft:
			return gerr(400, "ErrorInvalidPropertyUpdateSentMessage", "Update operation is not supported for the property '%s' of a message that was sent or received.", name)
		}
		if err := p.set(&next, props[name]); err != nil {
			return err
		}
	}
	*m = next
	m.finish()
	return nil
}

func decodeProp(name string, v json.RawMessage, into any) error {
	if err := json.Unmarshal(v, into); err != nil {
		return gerr(400, "RequestBodyRead", "Cannot convert a value to the expected type for the property '%s'.", name)
	}
	return nil
}

func ignoreProp(*message, json.RawMessage) error { return nil }

func setBody(m *message, v json.RawMessage) error {
	var b outgoingBody
	if err := strictJSON(v, &b, "microsoft.graph.itemBody"); err != nil {
		return err
	}
	switch strings.ToLower(b.ContentType) {
	case "text", "":
		m.body = content{text: b.Content}
	case "html":
		m.body = content{html: true, text: b.Content}
	default:
		return gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.", b.ContentType)
	}
	m.unique = m.body
	return nil
}

// setRecipients stores recipients as given: Exchange resolves them only
// when the message is sent (see sendable).
func setRecipients(name string, field func(*message) *[]recipient) func(*message, json.RawMessage) error {
	return func(m *message, v json.RawMessage) error {
		var list []outgoingRecip
		if err := strictJSON(v, &list, "microsoft.graph.recipient"); err != nil {
			return err
		}
		rs := make([]recipient, 0, len(list))
		for _, r := range list {
			addr := strings.TrimSpace(r.EmailAddress.Address)
			rs = append(rs, recipient{Name: cmp.Or(r.EmailAddress.Name, addr), Address: addr})
		}
		*field(m) = rs
		return nil
	}
}

func setEnum(name, typeName string, field func(*message) *string, values ...string) func(*message, json.RawMessage) error {
	return func(m *message, v json.RawMessage) error {
		var s string
		if err := decodeProp(name, v, &s); err != nil {
			return err
		}
		if !slices.Contains(values, strings.ToLower(s)) {
			return gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type '%s'.", s, typeName)
		}
		*field(m) = strings.ToLower(s)
		return nil
	}
}

func setFlag(m *message, v json.RawMessage) error {
	var f struct {
		FlagStatus        string          `json:"flagStatus"`
		StartDateTime     json.RawMessage `json:"startDateTime"`
		DueDateTime       json.RawMessage `json:"dueDateTime"`
		CompletedDateTime json.RawMessage `json:"completedDateTime"`
	}
	if err := strictJSON(v, &f, "microsoft.graph.followupFlag"); err != nil {
		return err
	}
	if !slices.Contains([]string{"notFlagged", "flagged", "complete"}, f.FlagStatus) {
		return gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.followupFlagStatus'.", f.FlagStatus)
	}
	m.flag = f.FlagStatus
	switch {
	case f.FlagStatus == "notFlagged":
		m.flagDue = time.Time{}
	case len(f.DueDateTime) > 0 && string(f.DueDateTime) != "null":
		var due struct{ DateTime, TimeZone string }
		if err := json.Unmarshal(f.DueDateTime, &due); err != nil {
			return gerr(400, "RequestBodyRead", "Cannot read dueDateTime as microsoft.graph.dateTimeTimeZone.")
		}
		t, err := time.Parse("2006-01-02T15:04:05.9999999", due.DateTime)
		if err != nil {
			return gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", due.DateTime)
		}
		m.flagDue = t.Truncate(24 * time.Hour)
	}
	return nil
}

// setAttachments adds file attachments given inline, contentBytes in base64.
func setAttachments(m *message, v json.RawMessage) error {
	var list []struct {
		Type         string `json:"@odata.type"`
		Name         string `json:"name"`
		ContentType  string `json:"contentType"`
		ContentBytes string `json:"contentBytes"`
		IsInline     bool   `json:"isInline"`
		ContentID    string `json:"contentId"`
	}
	if err := decodeProp("attachments", v, &list); err != nil {
		return err
	}
	atts := slices.Clone(m.attachments)
	for _, a := range list {
		switch a.Type {
		case "#microsoft.graph.fileAttachment":
		case "":
			return gerr(400, "RequestBodyRead", "Cannot create an abstract class.")
		default:
			return badRequest("The simulator supports only #microsoft.graph.fileAttachment, not '%s'.", a.Type)
		}
		data, err := base64.StdEncoding.DecodeString(a.ContentBytes)
		if err != nil {
			return gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.Binary'.", truncate(a.ContentBytes, 40))
		}
		atts = append(atts, &attachment{
			id: strings.TrimSuffix(m.id, "=") + "BEgAQA" + strconv.Itoa(len(atts)) + "=", name: a.Name,
			contentType: cmp.Or(a.ContentType, "application/octet-stream"), contentID: a.ContentID, inline: a.IsInline,
			size: len(data) + 180, data: data, modified: m.sent,
		})
	}
	m.attachments = atts
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// noSuchProperty is Graph's answer to a property its type does not have.
func noSuchProperty(name, typeName string) *graphError {
	return gerr(400, "RequestBodyRead", "The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", name, typeName)
}

// draft is a new, empty draft from the user, not yet in a folder.
func (s *Sim) draft(g *graphReq) *message {
	me := s.box.me
	now := g.now.Truncate(time.Second)
	m := &message{
		id:         s.newMessageID(g),
		from:       recipient{Name: me.DisplayName, Address: me.mailAddress()},
		received:   now,
		sent:       now,
		isRead:     true,
		isDraft:    true,
		importance: "normal",
		flag:       "notFlagged",
		inference:  "focused",
	}
	m.conversationID = derivedID("AAQkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQAQA", "conversation", m.id)
	m.internetID = internetMessageID(m.id, m.from.Address)
	m.finish()
	return m
}

func (s *Sim) newMessageID(g *graphReq) string {
	s.seq++
	return derivedID("AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAAD", "message", strconv.Itoa(s.seq), g.reqID)
}

// store files m in a well-known folder, adding it to the mailbox if new.
func (s *Sim) store(m *message, folder string) {
	m.folderID = s.box.folder(folder).id
	if !slices.Contains(s.box.messages, m) {
		s.box.messages = append(s.box.messages, m)
	}
}

// sendable is Exchange's check before a message leaves: some recipient,
// and every address resolvable.
func sendable(m *message) error {
	if len(m.to)+len(m.cc)+len(m.bcc) == 0 {
		return gerr(400, "ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be sent because it contains no recipients.")
	}
	for _, r := range slices.Concat(m.to, m.cc, m.bcc, m.replyTo) {
		if !plausibleAddress(r.Address) {
			return gerr(400, "ErrorInvalidRecipients", "At least one recipient isn't valid., Recipient '%s' is not resolved. All recipients must be resolved before a message can be submitted.", r.Address)
		}
	}
	return nil
}

// fileSent files a message that just left in Sent Items. A stored draft
// gets a new id there, as in Exchange.
func (s *Sim) fileSent(g *graphReq, m *message) {
	now := g.now.Truncate(time.Second)
	m.isDraft, m.sent, m.received = false, now, now
	if slices.Contains(s.box.messages, m) {
		m.id = s.newMessageID(g)
		m.finish()
	}
	s.store(m, "sentitems")
}

// sentJSON is a message as it left, in the shape of sendMail's "message".
func sentJSON(m *message) json.RawMessage {
	kind := "Text"
	if m.body.html {
		kind = "HTML"
	}
	out := map[string]any{
		"subject":       m.subject,
		"body":          map[string]any{"contentType": kind, "content": m.body.text},
		"toRecipients":  recipientsJSON(m.to),
		"ccRecipients":  recipientsJSON(m.cc),
		"bccRecipients": recipientsJSON(m.bcc),
		"replyTo":       recipientsJSON(m.replyTo),
		"importance":    m.importance,
	}
	if len(m.attachments) > 0 {
		var atts []any
		for _, a := range m.attachments {
			atts = append(atts, map[string]any{"name": a.name, "contentType": a.contentType, "size": a.size})
		}
		out["attachments"] = atts
	}
	return marshal(out)
}

// messageOut checks a request's query options before anything changes and
// returns how to answer it with a message.
func (s *Sim) messageOut(g *graphReq) (func(m *message, status int) (*reply, error), error) {
	v, err := s.messageView(g)
	if err != nil {
		return nil, err
	}
	if _, err := parseSelect(g.query.Get("$select"), &messageType.entityInfo); err != nil {
		return nil, err
	}
	return func(m *message, status int) (*reply, error) {
		rep, err := entity(g, &messageType.entityInfo, s.mePath()+"/messages/$entity", s.messageJSON(m, v))
		if rep != nil {
			rep.status = status
		}
		return rep, err
	}, nil
}

func requireBody(g *graphReq) error {
	if len(bytes.TrimSpace(g.body)) == 0 {
		return badRequest("Empty Payload. JSON content expected.")
	}
	return nil
}

// POST /me/messages: a new draft in Drafts; 201 with it.
func (s *Sim) createMessage(g *graphReq) (*reply, error) {
	out, err := s.messageOut(g)
	if err != nil {
		return nil, err
	}
	if err := requireBody(g); err != nil {
		return nil, err
	}
	m := s.draft(g)
	if err := setProps(m, g.body, true); err != nil {
		return nil, err
	}
	s.store(m, "drafts")
	return out(m, 201)
}

// messageWrite starts a request that changes message {id}: it checks the
// query options, the message and that there is a body, and returns how to
// answer with the message.
func (s *Sim) messageWrite(g *graphReq) (*message, func(m *message, status int) (*reply, error), error) {
	out, err := s.messageOut(g)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.messageParam(g)
	if err != nil {
		return nil, nil, err
	}
	return m, out, requireBody(g)
}

// PATCH /me/messages/{id}: sets the given properties; 200 with the message.
func (s *Sim) updateMessage(g *graphReq) (*reply, error) {
	m, out, err := s.messageWrite(g)
	if err != nil {
		return nil, err
	}
	if err := setProps(m, g.body, false); err != nil {
		return nil, err
	}
	return out(m, 200)
}

// POST /me/messages/{id}/send: only a draft can be sent; it moves to Sent
// Items. 202, empty.
func (s *Sim) sendDraft(g *graphReq) (*reply, error) {
	m, err := s.messageParam(g)
	if err != nil {
		return nil, err
	}
	if !m.isDraft {
		return nil, gerr(400, "ErrorInvalidOperation", "Only a draft message can be sent; this message was already sent or received.")
	}
	if err := sendable(m); err != nil {
		return nil, err
	}
	s.fileSent(g, m)
	s.sent = append(s.sent, sentJSON(m))
	return &reply{status: 202}, nil
}

// answer handles POST /me/messages/{id}/reply|replyAll|forward and, with
// draft, createReply|createReplyAll|createForward. Outlook composes the
// answer from the original: its recipients, a "RE: " or "FW: " subject, the
// comment (or message.body) above the original quoted; a forward carries
// the original's attachments. It then sends it (202, empty) or saves it in
// Drafts (201 with the draft).
func answer(action string, draft bool) func(*Sim, *graphReq) (*reply, error) {
	return func(s *Sim, g *graphReq) (*reply, error) {
		out, err := s.messageOut(g)
		if err != nil {
			return nil, err
		}
		orig, err := s.messageParam(g)
		if err != nil {
			return nil, err
		}
		var req struct {
			Comment      *string         `json:"comment"`
			Message      json.RawMessage `json:"message"`
			ToRecipients json.RawMessage `json:"toRecipients"` // forward only
		}
		if len(bytes.TrimSpace(g.body)) > 0 {
			if err := strictJSON(g.body, &req, "microsoft.graph."+action); err != nil {
				return nil, err
			}
		}
		if req.ToRecipients != nil && action != "forward" {
			return nil, noSuchProperty("toRecipients", "microsoft.graph."+action)
		}
		var msg map[string]json.RawMessage
		if req.Message != nil {
			if err := decodeProp("message", req.Message, &msg); err != nil {
				return nil, err
			}
		}
		if _, ok := msg["body"]; ok && req.Comment != nil {
			return nil, badRequest("Specify either a comment or the body property of the message parameter, not both.")
		}

		m := s.draft(g)
		m.subject = answerSubject(action, orig.subject)
		m.conversationID = orig.conversationID
		m.to, m.cc = s.answerRecipients(orig, action)
		if action == "forward" {
			for i, a := range orig.attachments {
				c := *a
				c.id = strings.TrimSuffix(m.id, "=") + "BEgAQA" + strconv.Itoa(i) + "="
				m.attachments = append(m.attachments, &c)
			}
			if req.ToRecipients != nil {
				if err := messageProps["toRecipients"].set(m, req.ToRecipients); err != nil {
					return nil, err
				}
			}
		}
		if req.Message != nil {
			if err := setProps(m, req.Message, true); err != nil {
				return nil, err
			}
		}
		if req.Comment != nil {
			m.body = content{text: *req.Comment}
		}
		m.unique = m.body
		m.body = content{html: true, text: m.body.htmlText() + outlookQuote(orig)}
		m.finish()

		if draft {
			s.store(m, "drafts")
			return out(m, 201)
		}
		if err := sendable(m); err != nil {
			return nil, err
		}
		s.fileSent(g, m)
		s.sent = append(s.sent, sentJSON(m))
		return &reply{status: 202}, nil
	}
}

// answerSubject prefixes "RE: " or "FW: " once, as Outlook does.
func answerSubject(action, subject string) string {
	prefix := "RE:"
	if action == "forward" {
		prefix = "FW:"
	}
	if hasPrefixFold(subject, prefix) {
		return subject
	}
	return prefix + " " + subject
}

// answerRecipients is whom Outlook addresses an answer to: a reply goes to
// the original's replyTo, else to its sender (answering one's own message:
// to its recipients); reply-all adds everyone on it. Never to the user.
func (s *Sim) answerRecipients(orig *message, action string) (to, cc []recipient) {
	if action == "forward" {
		return nil, nil
	}
	me := s.box.me.mailAddress()
	switch {
	case len(orig.replyTo) > 0:
		to = orig.replyTo
	case strings.EqualFold(orig.from.Address, me):
		to = orig.to
	default:
		to = []recipient{orig.from}
	}
	if action == "replyAll" {
		to, cc = slices.Concat(to, orig.to), orig.cc
	}
	return others(to, me), others(cc, me)
}

// others drops the user and repeats from rs.
func others(rs []recipient, me string) []recipient {
	var out []recipient
	seen := map[string]bool{strings.ToLower(me): true}
	for _, r := range rs {
		if a := strings.ToLower(r.Address); !seen[a] {
			seen[a] = true
			out = append(out, r)
		}
	}
	return out
}
