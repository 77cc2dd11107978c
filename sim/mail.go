package sim

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"time"
)

type folder struct {
	id, name, wellKnown, parent string
}

type recipient struct{ Name, Address string }

func (r recipient) json() map[string]any {
	return map[string]any{"emailAddress": map[string]any{"name": r.Name, "address": r.Address}}
}

func recipientsJSON(rs []recipient) []any {
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.json())
	}
	return out
}

func (r recipient) String() string { return r.Name + " <" + r.Address + ">" }

type attachment struct {
	id, name, contentType, contentID string
	kind                             string // itemAttachment or referenceAttachment; "" for a file (fileAttachment)
	size                             int
	inline                           bool
	data                             []byte // a file's bytes; an item's MIME
	modified                         time.Time
}

// Attachment kinds, as Graph names them in @odata.type.
const (
	fileAttachment      = "fileAttachment"
	itemAttachment      = "itemAttachment"
	referenceAttachment = "referenceAttachment"
)

type message struct {
	id, immID, folderID, conversationID, internetID string
	subject                                         string
	body, unique                                    content
	from                                            recipient
	to, cc, bcc, replyTo                            []recipient
	received, sent                                  time.Time
	isRead, isDraft                                 bool
	importance, flag, inference                     string
	flagDue                                         time.Time // midnight UTC of the day a flag is due; zero: none
	categories                                      []string
	meetingEvent                                    string // id of the event a meeting request is about
	attachments                                     []*attachment

	plain, changeKey string // derived by finish
}

// finish derives what depends on the body and identity.
func (m *message) finish() {
	m.immID = immutableID(m.id)
	m.plain = m.body.plain()
	m.changeKey = derivedID("CQAAABYAAAC", "changekey", m.id, m.subject)[:40]
}

func (m *message) hasAttachments() bool {
	return slices.ContainsFunc(m.attachments, func(a *attachment) bool { return !a.inline })
}

// freeText matches a KQL free-text term: sender, subject, body, attachment names.
func (m *message) freeText(term string) bool {
	if wordMatch(m.from.Name+" "+m.from.Address, term) || wordMatch(m.subject, term) || wordMatch(m.plain, term) {
		return true
	}
	return slices.ContainsFunc(m.attachments, func(a *attachment) bool { return wordMatch(a.name, term) })
}

// Graph time formats.
func isoZ(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func etag(changeKey string) string { return `W/"` + changeKey + `"` }

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// messageType describes microsoft.graph.message for query options.
var messageType = &entityType[*message]{
	entityInfo: entityInfo{
		name: "microsoft.graph.message",
		props: []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "receivedDateTime",
			"sentDateTime", "hasAttachments", "internetMessageId", "subject", "bodyPreview", "importance", "parentFolderId",
			"conversationId", "conversationIndex", "isDeliveryReceiptRequested", "isReadReceiptRequested", "isRead", "isDraft",
			"webLink", "inferenceClassification", "body", "uniqueBody", "sender", "from", "toRecipients", "ccRecipients",
			"bccRecipients", "replyTo", "flag"},
		hidden:      []string{"uniqueBody"},                                               // only returned when selected, as in Graph
		keep:        []string{"@odata.etag", "@odata.type", "id", "attachments", "event"}, // $expand adds to $select
		selectCode:  "RequestBroker--ParseUri",
		filterCode:  "ErrorInvalidUrlQueryFilter",
		funcs:       []string{"startswith", "contains"},
		strictOrder: true,
	},
	fields: map[string]field[*message]{
		"receiveddatetime":          timeField(func(m *message) time.Time { return m.received }),
		"sentdatetime":              timeField(func(m *message) time.Time { return m.sent }),
		"createddatetime":           timeField(func(m *message) time.Time { return m.sent }),
		"lastmodifieddatetime":      timeField(func(m *message) time.Time { return m.received }),
		"isread":                    boolField(func(m *message) bool { return m.isRead }),
		"isdraft":                   boolField(func(m *message) bool { return m.isDraft }),
		"hasattachments":            boolField(func(m *message) bool { return m.hasAttachments() }),
		"subject":                   strField(func(m *message) string { return m.subject }),
		"importance":                strField(func(m *message) string { return m.importance }),
		"conversationid":            strField(func(m *message) string { return m.conversationID }),
		"parentfolderid":            strField(func(m *message) string { return m.folderID }),
		"internetmessageid":         strField(func(m *message) string { return m.internetID }),
		"inferenceclassification":   strField(func(m *message) string { return m.inference }),
		"flag/flagstatus":           strField(func(m *message) string { return m.flag }),
		"from/emailaddress/address": strField(func(m *message) string { return m.from.Address }),
		"from/emailaddress/name":    strField(func(m *message) string { return m.from.Name }),
		"sender/emailaddress/address": strField(func(m *message) string {
			return m.from.Address
		}),
	},
	lambdas: map[string]lambda[*message]{
		"categories": {kinds: map[string]valueKind{"": kindString}, elems: func(m *message) []map[string]any {
			var out []map[string]any
			for _, c := range m.categories {
				out = append(out, map[string]any{"": c})
			}
			return out
		}},
		"torecipients": {kinds: map[string]valueKind{"emailaddress/address": kindString, "emailaddress/name": kindString}, elems: func(m *message) []map[string]any {
			var out []map[string]any
			for _, r := range m.to {
				out = append(out, map[string]any{"emailaddress/address": r.Address, "emailaddress/name": r.Name})
			}
			return out
		}},
	},
	order: func(a, b *message) int {
		if c := b.received.Compare(a.received); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	},
}

var attachmentInfo = &entityInfo{
	name:       "microsoft.graph.attachment",
	props:      []string{"id", "lastModifiedDateTime", "name", "contentType", "size", "isInline", "contentId", "contentLocation", "contentBytes"},
	keep:       []string{"@odata.type", "@odata.mediaContentType", "id"},
	selectCode: "RequestBroker--ParseUri",
	filterCode: "ErrorInvalidUrlQueryFilter",
}

// messageView is how messages are rendered for one request.
type messageView struct {
	html        bool
	immutable   bool       // Prefer: IdType="ImmutableId"
	basic       bool       // only Mail.ReadBasic: no body
	attachments *selection // $expand=attachments, with its own $select
	event       *selection // $expand=microsoft.graph.eventMessage/event, with its own $select
}

func (s *Sim) messageView(g *graphReq) (messageView, error) {
	v := messageView{html: g.bodyHTML(), basic: !s.hasAnyScope(scopesMailRead), immutable: g.immutableIDs()}
	for _, exp := range splitTopLevel(g.query.Get("$expand")) {
		name, opts, _ := strings.Cut(exp, "(")
		name = strings.TrimSpace(name)
		var info *entityInfo
		into := &v.attachments
		switch {
		case strings.EqualFold(name, "attachments"):
			info = attachmentInfo
		case strings.EqualFold(name, "microsoft.graph.eventMessage/event"):
			// A type cast: messages that are not about a meeting ignore it.
			info, into = &eventType.entityInfo, &v.event
		default:
			return v, badRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.message'.", name)
		}
		if v.basic {
			return v, errAccessDenied
		}
		sel := selection(nil)
		if opts != "" {
			opts = strings.TrimSuffix(strings.TrimSpace(opts), ")")
			for _, o := range strings.Split(opts, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(o), "=")
				if !strings.EqualFold(k, "$select") {
					return v, badRequest("Parsing OData Select and Expand failed: the option '%s' is not supported in $expand.", k)
				}
				var err error
				if sel, err = parseSelect(val, info); err != nil {
					return v, err
				}
			}
		}
		*into = &sel
	}
	return v, nil
}

// splitTopLevel splits a $expand at the commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" {
		out = append(out, last)
	}
	return out
}

func (s *Sim) messageJSON(m *message, v messageView) map[string]any {
	o := map[string]any{
		"@odata.etag":                etag(m.changeKey),
		"id":                         pickID(v.immutable, m.id, m.immID),
		"createdDateTime":            isoZ(m.sent),
		"lastModifiedDateTime":       isoZ(m.received),
		"changeKey":                  m.changeKey,
		"categories":                 strs(m.categories),
		"receivedDateTime":           isoZ(m.received),
		"sentDateTime":               isoZ(m.sent),
		"hasAttachments":             m.hasAttachments(),
		"internetMessageId":          m.internetID,
		"subject":                    m.subject,
		"importance":                 m.importance,
		"parentFolderId":             m.folderID,
		"conversationId":             m.conversationID,
		"conversationIndex":          conversationIndex(m.conversationID),
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     m.isRead,
		"isDraft":                    m.isDraft,
		"webLink":                    "https://outlook.office365.com/owa/?ItemID=" + url.QueryEscape(m.id) + "&exvsurl=1&viewmodel=ReadMessageItem",
		"inferenceClassification":    m.inference,
		"sender":                     m.from.json(),
		"from":                       m.from.json(),
		"toRecipients":               recipientsJSON(m.to),
		"ccRecipients":               recipientsJSON(m.cc),
		"bccRecipients":              recipientsJSON(m.bcc),
		"replyTo":                    recipientsJSON(m.replyTo),
		"flag":                       flagJSON(m),
	}
	if !v.basic {
		o["bodyPreview"] = preview(m.plain)
		o["body"] = m.body.render(v.html)
		o["uniqueBody"] = m.unique.render(v.html)
	}
	if m.meetingEvent != "" {
		// A meeting invitation is an eventMessageRequest.
		e := s.box.event(m.meetingEvent)
		o["@odata.type"] = "#microsoft.graph.eventMessageRequest"
		o["meetingMessageType"] = "meetingRequest"
		o["meetingRequestType"] = "newMeetingRequest"
		o["isOutOfDate"] = false
		o["isAllDay"] = e.allDay
		o["isDelegated"] = false
		o["responseRequested"] = true
		o["type"] = "singleInstance"
		o["startDateTime"] = map[string]any{"dateTime": graphDateTime(e.start), "timeZone": "UTC"}
		o["endDateTime"] = map[string]any{"dateTime": graphDateTime(e.end), "timeZone": "UTC"}
		o["location"] = map[string]any{"displayName": e.location, "locationType": "default", "uniqueIdType": "unknown"}
		if v.event != nil {
			// The event in the user's calendar that the invitation is about.
			if in, err := s.box.findInstance(m.meetingEvent, time.UTC); err == nil {
				ev := eventView{html: v.html, immutable: v.immutable, loc: time.UTC, zone: "UTC"}
				o["event"] = v.event.apply(s.eventJSON(in, ev), &eventType.entityInfo)
			}
		}
	}
	if v.attachments != nil {
		list := []map[string]any{}
		for _, a := range m.attachments {
			list = append(list, v.attachments.apply(attachmentJSON(a), attachmentInfo))
		}
		o["attachments"] = list
	}
	return o
}

// flagJSON is the message's followupFlag: a flag with a due date starts
// the same day, as Outlook sets it.
func flagJSON(m *message) map[string]any {
	f := map[string]any{"flagStatus": m.flag}
	if m.flag != "notFlagged" && !m.flagDue.IsZero() {
		day := map[string]any{"dateTime": graphDateTime(m.flagDue), "timeZone": "UTC"}
		f["startDateTime"], f["dueDateTime"] = day, day
	}
	return f
}

// conversationIndex stands in for Exchange's binary thread index.
func conversationIndex(conversationID string) string {
	h := sha256.Sum256([]byte(conversationID))
	return "AQHa" + base64.StdEncoding.EncodeToString(h[:18])
}

// attachmentJSON renders an attachment; only a file attachment carries
// its bytes (contentBytes), and an attached item has no content type.
func attachmentJSON(a *attachment) map[string]any {
	o := map[string]any{
		"@odata.type":          "#microsoft.graph." + cmp.Or(a.kind, fileAttachment),
		"id":                   a.id,
		"lastModifiedDateTime": isoZ(a.modified),
		"name":                 a.name,
		"contentType":          nullable(a.contentType),
		"size":                 a.size,
		"isInline":             a.inline,
	}
	if a.kind == "" {
		o["@odata.mediaContentType"] = a.contentType
		o["contentId"] = nullable(a.contentID)
		o["contentLocation"] = nil
		o["contentBytes"] = base64.StdEncoding.EncodeToString(a.data)
	}
	return o
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// GET /me/mailFolders: the folders directly under the root, as in Graph.
func (s *Sim) listFolders(g *graphReq) (*reply, error) {
	return listEntities(g, folderType, s.childFolders(s.box.rootFolderID), listOptions{context: s.mePath() + "/mailFolders"}, s.folderJSON)
}

// GET /me/mailFolders/{folder}
func (s *Sim) getFolder(g *graphReq) (*reply, error) {
	f, err := s.folderParam(g)
	if err != nil {
		return nil, err
	}
	return entity(g, &folderType.entityInfo, s.mePath()+"/mailFolders/$entity", s.folderJSON(f))
}

var folderType = &entityType[*folder]{
	entityInfo: entityInfo{
		name:       "microsoft.graph.mailFolder",
		props:      []string{"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount", "sizeInBytes", "isHidden"},
		keep:       []string{"id"},
		selectCode: "RequestBroker--ParseUri",
		filterCode: "ErrorInvalidUrlQueryFilter",
		funcs:      []string{"startswith"},
	},
	fields: map[string]field[*folder]{
		"displayname": strField(func(f *folder) string { return f.name }),
	},
}

func (s *Sim) folderJSON(f *folder) map[string]any {
	var total, unread, size int
	for _, m := range s.box.messages {
		if m.folderID == f.id {
			total++
			size += len(m.body.text) + 2048
			if !m.isRead {
				unread++
			}
		}
	}
	children := len(s.childFolders(f.id))
	return map[string]any{
		"id":               f.id,
		"displayName":      f.name,
		"parentFolderId":   f.parent,
		"childFolderCount": children,
		"unreadItemCount":  unread,
		"totalItemCount":   total,
		"sizeInBytes":      size,
		"isHidden":         false,
	}
}

// folderParam resolves {folder}: an id or a well-known name, case-insensitive.
func (s *Sim) folderParam(g *graphReq) (*folder, error) {
	f := s.box.folder(g.params["folder"])
	if f == nil {
		return nil, errNotFound
	}
	return f, nil
}

// GET /me/messages and /me/mailFolders/{folder}/messages
func (s *Sim) listMessages(g *graphReq) (*reply, error) {
	items := s.box.messages
	ctx := s.mePath() + "/messages"
	if _, ok := g.params["folder"]; ok {
		f, err := s.folderParam(g)
		if err != nil {
			return nil, err
		}
		items = slices.DeleteFunc(slices.Clone(items), func(m *message) bool { return m.folderID != f.id })
		ctx = s.mePath() + "/mailFolders('" + g.params["folder"] + "')/messages"
	}
	v, err := s.messageView(g)
	if err != nil {
		return nil, err
	}
	o := listOptions{context: ctx}
	if g.query.Has("$search") {
		switch {
		case g.query.Has("$orderby"):
			return nil, gerr(400, "SearchWithOrderBy", "This request does not support $orderby together with $search.")
		case g.query.Has("$filter"):
			return nil, gerr(400, "ErrorInvalidUrlQuery", "The query parameter '$filter' is not supported with '$search'.")
		}
		match, err := compileKQL(g.query.Get("$search"), g.now)
		if err != nil {
			return nil, err
		}
		items = slices.DeleteFunc(slices.Clone(items), func(m *message) bool { return !match(m) })
		o.maxResults = 1000 // search results come sorted by date, at most 1000
	}
	return listEntities(g, messageType, items, o, func(m *message) map[string]any { return s.messageJSON(m, v) })
}

// GET /me/messages/{id}
func (s *Sim) getMessage(g *graphReq) (*reply, error) {
	if _, ok := g.params["folder"]; ok {
		if _, err := s.folderParam(g); err != nil {
			return nil, err
		}
	}
	m, err := s.messageParam(g)
	if err != nil {
		return nil, err
	}
	v, err := s.messageView(g)
	if err != nil {
		return nil, err
	}
	return entity(g, &messageType.entityInfo, s.mePath()+"/messages/$entity", s.messageJSON(m, v))
}

func (s *Sim) messageParam(g *graphReq) (*message, error) {
	return lookup(s.box.messages, g.params["id"], func(m *message) (string, string) { return m.id, m.immID })
}

// GET /me/messages/{id}/attachments
func (s *Sim) listAttachments(g *graphReq) (*reply, error) {
	m, err := s.messageParam(g)
	if err != nil {
		return nil, err
	}
	t := &entityType[*attachment]{
		entityInfo: *attachmentInfo,
		fields: map[string]field[*attachment]{
			"name":        strField(func(a *attachment) string { return a.name }),
			"contenttype": strField(func(a *attachment) string { return a.contentType }),
			"isinline":    boolField(func(a *attachment) bool { return a.inline }),
		},
	}
	return listEntities(g, t, m.attachments, listOptions{context: s.mePath() + "/messages('" + g.params["id"] + "')/attachments"}, attachmentJSON)
}

func (s *Sim) attachmentParam(g *graphReq) (*attachment, error) {
	m, err := s.messageParam(g)
	if err != nil {
		return nil, err
	}
	return lookup(m.attachments, g.params["att"], func(a *attachment) (string, string) { return a.id, a.id })
}

// GET /me/messages/{id}/attachments/{att}
func (s *Sim) getAttachment(g *graphReq) (*reply, error) {
	a, err := s.attachmentParam(g)
	if err != nil {
		return nil, err
	}
	return entity(g, attachmentInfo, s.mePath()+"/messages('"+g.params["id"]+"')/attachments/$entity", attachmentJSON(a))
}

// GET /me/messages/{id}/attachments/{att}/$value: a file's bytes, an
// attached item in MIME; a reference attachment (a link) has none.
func (s *Sim) getAttachmentValue(g *graphReq) (*reply, error) {
	a, err := s.attachmentParam(g)
	if err != nil {
		return nil, err
	}
	switch a.kind {
	case referenceAttachment:
		return nil, gerr(405, "ErrorInvalidRequest", "The raw content of a reference attachment cannot be retrieved.")
	case itemAttachment:
		return &reply{raw: a.data, contentType: "message/rfc822"}, nil
	}
	return &reply{raw: a.data, contentType: cmp.Or(a.contentType, "application/octet-stream")}, nil
}

type outgoingBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type outgoingRecip struct {
	EmailAddress struct {
		Address string `json:"address"`
		Name    string `json:"name"`
	} `json:"emailAddress"`
}

// POST /me/sendMail: 202 with an empty body once accepted.
func (s *Sim) sendMail(g *graphReq) (*reply, error) {
	if err := requireBody(g); err != nil {
		return nil, err
	}
	var req struct {
		Message         *json.RawMessage `json:"message"`
		SaveToSentItems *bool            `json:"saveToSentItems"`
	}
	if err := strictJSON(g.body, &req, "microsoft.graph.sendMail"); err != nil {
		return nil, err
	}
	if req.Message == nil {
		return nil, gerr(400, "ErrorInvalidParameter", "The value of the parameter 'Message' is empty.")
	}
	m := s.draft(g)
	if err := setProps(m, *req.Message, true); err != nil {
		return nil, err
	}
	if err := sendable(m); err != nil {
		return nil, err
	}
	s.sent = append(s.sent, slices.Clone(*req.Message))
	if req.SaveToSentItems == nil || *req.SaveToSentItems {
		s.fileSent(g, m)
	}
	return &reply{status: 202}, nil
}

// plausibleAddress is Exchange's first check of a recipient: local@domain.
func plausibleAddress(a string) bool {
	local, domain, ok := strings.Cut(a, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") &&
		!strings.HasSuffix(domain, ".") && !strings.ContainsAny(a, " <>,;\"") && !strings.Contains(domain, "@")
}

// strictJSON decodes a request body as Graph does: invalid JSON and
// unknown properties are 400s naming the property.
func strictJSON(data []byte, v any, typeName string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return noSuchProperty(strings.Trim(name, `"`), typeName)
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return gerr(400, "RequestBodyRead", "Cannot convert a value to the expected type for the property '%s'.", typeErr.Field)
	}
	return badRequest("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

// outlookQuote is how Outlook quotes the message being answered.
func outlookQuote(m *message) string {
	names := func(rs []recipient) string {
		parts := make([]string, len(rs))
		for i, r := range rs {
			parts[i] = html.EscapeString(r.String())
		}
		return strings.Join(parts, "; ")
	}
	var b strings.Builder
	b.WriteString("\r\n<div id=\"appendonsend\"></div>\r\n<hr style=\"display:inline-block;width:98%\" tabindex=\"-1\">\r\n")
	b.WriteString("<div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri, sans-serif\" style=\"font-size:11pt\" color=\"#000000\">")
	fmt.Fprintf(&b, "<b>From:</b> %s<br>\r\n", html.EscapeString(m.from.String()))
	fmt.Fprintf(&b, "<b>Sent:</b> %s<br>\r\n", m.sent.Format("Monday, January 2, 2006 3:04 PM"))
	fmt.Fprintf(&b, "<b>To:</b> %s<br>\r\n", names(m.to))
	if len(m.cc) > 0 {
		fmt.Fprintf(&b, "<b>Cc:</b> %s<br>\r\n", names(m.cc))
	}
	fmt.Fprintf(&b, "<b>Subject:</b> %s</font>\r\n<div>&nbsp;</div>\r\n</div>\r\n", html.EscapeString(m.subject))
	b.WriteString(m.body.htmlText())
	return b.String()
}
