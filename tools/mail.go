package tools

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/outlook-mcp/outlook-mcp/extract"
)

// ---- search_mail ----

type SearchMailArgs struct {
	Query          string `json:"query,omitempty" jsonschema_description:"Free text or KQL (subject:budget, from:ann, body:\"exact phrase\", AND/OR)."`
	From           string `json:"from,omitempty" jsonschema_description:"Sender email address, or a name to search for."`
	Folder         string `json:"folder,omitempty" handle:"f" jsonschema_description:"Well-known folder (inbox, sentitems, drafts, archive, deleteditems, junkemail) or a folder id. Default: all folders."`
	ReceivedAfter  string `json:"received_after,omitempty" jsonschema_description:"Date (2026-11-01, UTC) or RFC 3339 time; inclusive."`
	ReceivedBefore string `json:"received_before,omitempty" jsonschema_description:"Date or RFC 3339 time; exclusive."`
	UnreadOnly     bool   `json:"unread_only,omitempty"`
	HasAttachments *bool  `json:"has_attachments,omitempty"`
	Limit          int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=50,default=10"`
	Cursor         string `max:"4096" json:"cursor,omitempty" jsonschema_description:"The previous page's next_cursor; same arguments."`
}

type MessageSummary struct {
	ID             string `json:"id" handle:"m"`
	Subject        string `json:"subject"`
	From           Person `json:"from"`
	ReceivedAt     string `json:"received_at"`
	IsRead         bool   `json:"is_read"`
	HasAttachments bool   `json:"has_attachments"`
	Preview        string `json:"preview"`
	ConversationID string `json:"conversation_id,omitempty" handle:"t"`
	Junk           bool   `json:"junk,omitempty" jsonschema_description:"In the Junk Email folder."`
	MessageState
}

// MessageState is what the user (or a rule) marked a message with: its
// follow-up flag, importance other than normal, and categories.
type MessageState struct {
	Flag       string   `json:"flag,omitempty"`       // flagged or complete
	Due        string   `json:"due,omitempty"`        // the flag's due date: 2026-11-27
	Importance string   `json:"importance,omitempty"` // high or low
	Categories []string `json:"categories,omitempty"`
}

// graphFlag is Graph's followupFlag.
type graphFlag struct {
	FlagStatus  string     `json:"flagStatus"`
	DueDateTime *graphTime `json:"dueDateTime"`
}

// state is the message's MessageState: only what differs from an
// unmarked message.
func (m graphMessage) state() MessageState {
	var s MessageState
	if m.Flag != nil && (m.Flag.FlagStatus == "flagged" || m.Flag.FlagStatus == "complete") {
		s.Flag = m.Flag.FlagStatus
		if d := m.Flag.DueDateTime; d != nil && len(d.DateTime) >= len(time.DateOnly) {
			// A flag is due on a day: Outlook keeps midnight of it.
			s.Due = d.DateTime[:len(time.DateOnly)]
		}
	}
	if m.Importance == "high" || m.Importance == "low" {
		s.Importance = m.Importance
	}
	s.Categories = m.Categories
	return s
}

// labels are the state's labels in texts: "[flagged due Fri 27 Nov] [high]
// [cat: Finance] ". Categories are names anyone may have set: the caller
// keeps them inside a fence.
func (s MessageState) labels() string {
	if len(s.Categories) == 0 {
		return s.marks()
	}
	return s.marks() + "[cat: " + strings.Join(s.Categories, ", ") + "] "
}

// marks are the labels of the flag and importance, which the server
// words itself: "[flagged due Fri 27 Nov] [high] ".
func (s MessageState) marks() string {
	var b strings.Builder
	switch s.Flag {
	case "flagged":
		b.WriteString("[flagged")
		if s.Due != "" {
			b.WriteString(" due " + textTime(s.Due, yearOf(s.Due)))
		}
		b.WriteString("] ")
	case "complete":
		b.WriteString("[flag complete] ")
	}
	if s.Importance != "" {
		b.WriteString("[" + s.Importance + "] ")
	}
	return b.String()
}

type SearchMailResult struct {
	Messages   []MessageSummary `json:"messages"`
	NextCursor string           `json:"next_cursor,omitempty"`
	Note       string           `json:"note,omitempty"`
	// Query is what was asked of Graph, in KQL (or the filters, listed).
	Query string `json:"query,omitempty"`
	// LoosenedTo is the looser query run after the query found nothing:
	// when set, messages match it, not the query (searchhelp.go).
	LoosenedTo string `json:"loosened_to,omitempty"`
	// Suggestions are the next searches to try, each its arguments as JSON.
	Suggestions []string `json:"suggestions,omitempty"`
	// Tries are the suggestions' arguments, exported for their folder ids
	// to be shortened to handles (idsShortened remakes Suggestions).
	Tries []SearchMailArgs `json:"-"`

	where string // the folder searched, as the text names it
	why   string // why an empty search may have found nothing
	stop  listStop
	zone  userZone // of the times
}

func (r *SearchMailResult) shrink() bool { return stopEarly(&r.Messages, r.stop, &r.NextCursor) }

var searchMail = define("search_mail", "Search mail",
	"Search or list the user's email, newest first. Returns id, subject, sender, time, read and attachment flags and a short preview per message (no bodies: use get_message for one message's full text). Combine query (free text or KQL) with the filters; no arguments lists the latest mail in all folders. Finding nothing, it tries word stems once (labelled) and suggests next searches.",
	[]string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in SearchMailArgs) (*SearchMailResult, error) {
		args, cur, err := listing("search_mail", in, in.Cursor)
		if err != nil {
			return nil, err
		}
		limit, err := checkLimit(args.Limit, 10, 50)
		if err != nil {
			return nil, err
		}
		q, err := buildMailQuery(args, limit)
		if err != nil {
			return nil, err
		}
		out := &SearchMailResult{Messages: []MessageSummary{}, Query: q.shown, where: folderShown(args.Folder)}
		// ran: the arguments of the query that ran, the looser one when a
		// cursor continues it.
		ran, form := args, cursor{Tool: "search_mail"}
		if cur != nil && cur.Looser {
			if ran.Query = looserQuery(args.Query); ran.Query == "" {
				return nil, argError("cursor", "is not a cursor of search_mail: pass next_cursor exactly as search_mail returned it, or omit it to start over")
			}
			if q, err = buildMailQuery(ran, limit); err != nil {
				return nil, err
			}
			form.Looser, out.LoosenedTo = true, q.shown
		}
		var res graphPage[graphMessage]
		header := http.Header{"Prefer": {preferImmutableID}}
		junk, zone := junkFolder(ctx, c, args.Folder), userZoneOf(ctx, c)
		err = get(ctx, c, q.path, cur.link(q.path, q.values), q.values, header, &res)
		var retryErr error
		if err == nil && cur == nil && len(res.Value) == 0 {
			// Nothing at all: the one looser retry (searchhelp.go).
			if looser := looserQuery(args.Query); looser != "" {
				ran.Query = looser
				if lq, lerr := buildMailQuery(ran, limit); lerr == nil {
					var more graphPage[graphMessage]
					if retryErr = get(ctx, c, lq.path, "", lq.values, header, &more); retryErr == nil {
						q, res, out.LoosenedTo = lq, more, lq.shown
						form.Looser, cur = true, &cursor{Looser: true}
					}
				}
			}
		}
		isJunk, tz := junk(), zone() // waited for even after an error: no request outlives its call
		if err != nil {
			return nil, err
		}
		out.NextCursor, out.stop, out.zone = form.next(args, q.values, res.NextLink), cur.stopper("search_mail", args), tz
		if len(res.Value) == 0 && (cur == nil || cur.Page == nil) {
			// Nothing, even loosely: what to try next, from the loosest that ran.
			base := ran
			if retryErr != nil {
				out.Tries, base = []SearchMailArgs{ran}, args // the looser query could not run: try it first
			}
			out.Tries = append(out.Tries, searchSuggestions(base)...)
			out.idsShortened()
			out.why = whyEmpty(base)
		}
		for i, m := range unseen(cur, res.Value) {
			if !q.keep(m) {
				continue
			}
			sum := m.summary()
			sum.Junk, sum.ReceivedAt = isJunk(m.ParentFolderID), tz.at(sum.ReceivedAt)
			out.Messages = append(out.Messages, sum)
			out.stop.raw = append(out.stop.raw, i)
		}
		var notes []string
		if q.postFiltered && len(out.Messages) < len(res.Value) {
			notes = append(notes, "Search results cannot be filtered by read state or exact time in Graph; this page was filtered after the search, so it may hold fewer than limit messages even when more exist.")
		}
		if retryErr != nil {
			notes = append(notes, "The looser query could not run just now: it is the first suggestion.")
		}
		if !c.Granted.HasAny("Mail.Read", "Mail.ReadWrite") {
			notes = append(notes, "Previews are empty: Mail.ReadBasic does not cover message text (Mail.Read does).")
		}
		out.Note = strings.Join(notes, " ")
		return out, nil
	})

// mailQuery is a search_mail request: Graph path and query, plus the
// filters that had to be applied to the returned page.
type mailQuery struct {
	path         string
	values       url.Values
	postFiltered bool
	keep         func(graphMessage) bool
	shown        string // what was asked, for the model: the KQL, or the filters listed
}

const messageListFields = "id,subject,from,receivedDateTime,isRead,hasAttachments,bodyPreview,conversationId,parentFolderId,flag,importance,categories"

// junkFolder starts looking up the Junk Email folder's id beside the
// call's own request, unless the server knows it already (folder is the
// call's folder argument, if any). The function it returns waits for the
// answer and tells whether a message in the given folder is junk: mail
// there is labelled, and Graph shows no other spam verdict in a message's
// properties. A failed lookup labels nothing; the call goes on.
func junkFolder(ctx context.Context, c *Call, folder string) func() func(parentFolderID string) bool {
	if strings.EqualFold(strings.TrimSpace(folder), "junkemail") {
		return func() func(string) bool { return func(string) bool { return true } }
	}
	junk := aside(c, &c.memos().junk, func() (string, time.Duration) {
		var f struct {
			ID string `json:"id"`
		}
		if err := get(ctx, c, "/me/mailFolders/junkemail", "", url.Values{"$select": {"id"}}, nil, &f); err != nil || f.ID == "" {
			return "", -1 // looked up again by the next call
		}
		return f.ID, 0 // the folder's id never changes
	})
	return func() func(string) bool {
		id := junk()
		return func(parent string) bool { return id != "" && parent == id }
	}
}

// buildMailQuery chooses between $search (KQL: a query, or a sender name)
// and $filter with $orderby: Graph refuses to combine $search with either,
// so with a search every constraint goes into KQL.
func buildMailQuery(in SearchMailArgs, limit int) (*mailQuery, error) {
	q := &mailQuery{path: "/me/messages", values: url.Values{
		"$select": {messageListFields},
		"$top":    {strconv.Itoa(limit)},
	}, keep: func(graphMessage) bool { return true }}
	if strings.TrimSpace(in.Folder) != "" {
		f, err := itemID("folder", "a folder id or well-known folder name", in.Folder)
		if err != nil {
			return nil, err
		}
		q.path = "/me/mailFolders/" + url.PathEscape(f) + "/messages"
	}
	var after, before time.Time
	var beforeDateOnly bool
	var err error
	if in.ReceivedAfter != "" {
		if after, _, err = parseTime("received_after", in.ReceivedAfter, time.UTC); err != nil {
			return nil, err
		}
	}
	if in.ReceivedBefore != "" {
		if before, beforeDateOnly, err = parseTime("received_before", in.ReceivedBefore, time.UTC); err != nil {
			return nil, err
		}
		if !after.IsZero() && !before.After(after) {
			return nil, argError("received_before", "must be later than received_after")
		}
	}
	from := strings.TrimSpace(in.From)
	fromAddress := simpleAddress.MatchString(from)
	query := strings.TrimSpace(in.Query)
	if len(query) > 1000 {
		return nil, argError("query", "is too long (at most 1000 characters)")
	}

	if query == "" && (from == "" || fromAddress) {
		var filters []string
		if !after.IsZero() || !before.IsZero() || in.UnreadOnly || in.HasAttachments != nil || from != "" {
			// With $orderby, the ordered property must lead the filter.
			lower := after
			if lower.IsZero() {
				lower = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			filters = append(filters, "receivedDateTime ge "+lower.UTC().Format(time.RFC3339))
		}
		if !before.IsZero() {
			filters = append(filters, "receivedDateTime lt "+before.UTC().Format(time.RFC3339))
		}
		if in.UnreadOnly {
			filters = append(filters, "isRead eq false")
		}
		if in.HasAttachments != nil {
			filters = append(filters, "hasAttachments eq "+strconv.FormatBool(*in.HasAttachments))
		}
		if from != "" {
			filters = append(filters, "from/emailAddress/address eq "+odataString(from))
		}
		if len(filters) > 0 {
			q.values.Set("$filter", strings.Join(filters, " and "))
		}
		q.values.Set("$orderby", "receivedDateTime desc")
		q.shown = filtersShown(from, after, before, in.UnreadOnly, in.HasAttachments)
		return q, nil
	}

	var clauses []string
	if query != "" {
		if strings.Contains(query, " OR ") {
			query = "(" + query + ")"
		}
		clauses = append(clauses, query)
	}
	if from != "" {
		clauses = append(clauses, "from:"+kqlValue(from))
	}
	// KQL compares dates, not times: the exact bound is checked on the page.
	if !after.IsZero() {
		clauses = append(clauses, "received>="+after.UTC().Format(time.DateOnly))
	}
	if !before.IsZero() {
		clauses = append(clauses, "received<="+before.UTC().Format(time.DateOnly))
		if beforeDateOnly {
			clauses[len(clauses)-1] = "received<" + before.UTC().Format(time.DateOnly)
		}
	}
	if in.HasAttachments != nil {
		clauses = append(clauses, "hasAttachments:"+strconv.FormatBool(*in.HasAttachments))
	}
	q.values.Set("$search", searchExpr(clauses))
	q.shown = strings.Join(clauses, " AND ")
	if in.UnreadOnly {
		q.shown += ", unread only"
	}
	exactAfter := !after.IsZero() && !after.Equal(after.UTC().Truncate(24*time.Hour))
	exactBefore := !before.IsZero() && !beforeDateOnly
	if in.UnreadOnly || exactAfter || exactBefore {
		q.postFiltered = true
		q.keep = func(m graphMessage) bool {
			t, _ := time.Parse(time.RFC3339, m.ReceivedDateTime)
			return !(in.UnreadOnly && m.IsRead) && !(exactAfter && t.Before(after)) && !(exactBefore && !t.Before(before))
		}
	}
	return q, nil
}

// filtersShown lists a $filter listing's filters as search_mail's text
// names them: from:a@b.com, received>=2026-11-01, unread only.
func filtersShown(from string, after, before time.Time, unread bool, attachments *bool) string {
	day := func(t time.Time) string {
		if t.Equal(t.UTC().Truncate(24 * time.Hour)) {
			return t.UTC().Format(time.DateOnly)
		}
		return t.UTC().Format(time.RFC3339)
	}
	var parts []string
	if from != "" {
		parts = append(parts, "from:"+from)
	}
	if !after.IsZero() {
		parts = append(parts, "received>="+day(after))
	}
	if !before.IsZero() {
		parts = append(parts, "received<"+day(before))
	}
	if attachments != nil {
		parts = append(parts, "hasAttachments:"+strconv.FormatBool(*attachments))
	}
	if unread {
		parts = append(parts, "unread only")
	}
	return strings.Join(parts, ", ")
}

func checkLimit(limit, def, max int) (int, error) {
	switch {
	case limit == 0:
		return def, nil
	case limit < 1 || limit > max:
		return 0, argError("limit", "must be between 1 and %d, not %d", max, limit)
	}
	return limit, nil
}

type graphMessage struct {
	ID               string           `json:"id"`
	Subject          string           `json:"subject"`
	From             *graphRecipient  `json:"from"`
	ReplyTo          []graphRecipient `json:"replyTo"`
	ToRecipients     []graphRecipient `json:"toRecipients"`
	CcRecipients     []graphRecipient `json:"ccRecipients"`
	BccRecipients    []graphRecipient `json:"bccRecipients"`
	IsDraft          bool             `json:"isDraft"`
	ReceivedDateTime string           `json:"receivedDateTime"`
	IsRead           bool             `json:"isRead"`
	HasAttachments   bool             `json:"hasAttachments"`
	BodyPreview      string           `json:"bodyPreview"`
	ConversationID   string           `json:"conversationId"`
	ParentFolderID   string           `json:"parentFolderId"`
	WebLink          string           `json:"webLink"`
	Flag             *graphFlag       `json:"flag"`
	Importance       string           `json:"importance"`
	Categories       []string         `json:"categories"`
	Body             struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Attachments []graphAttachment `json:"attachments"`
}

func (m graphMessage) sender() Person {
	if m.From == nil {
		return Person{}
	}
	return m.From.person()
}

func (m graphMessage) summary() MessageSummary {
	return MessageSummary{
		ID: m.ID, Subject: m.Subject, From: m.sender(), ReceivedAt: m.ReceivedDateTime,
		IsRead: m.IsRead, HasAttachments: m.HasAttachments,
		Preview: preview(m.BodyPreview, 160), ConversationID: m.ConversationID, MessageState: m.state(),
	}
}

// Text lists one message per line pair, the list fenced as one block:
// subjects, senders and previews are written by others.
func (r *SearchMailResult) Text() string {
	var b strings.Builder
	b.WriteString(r.searched())
	var list strings.Builder
	var times listTimes
	for i, m := range r.Messages {
		if i > 0 {
			list.WriteByte('\n')
		}
		fmt.Fprintf(&list, "%d. %s%s — %s, %s, id %s", i+1, messageFlags(m.Junk, m.IsRead, m.HasAttachments)+m.labels(), orNone(m.Subject), m.From.short(), times.next(m.ReceivedAt), m.ID)
		if m.Preview != "" {
			list.WriteString("\n   " + preview(m.Preview, 72))
		}
	}
	if list.Len() > 0 {
		b.WriteString(untrusted(list.String()) + r.zone.noteLine())
	}
	if r.Note != "" {
		b.WriteString("\nNote: " + r.Note)
	}
	if r.NextCursor != "" {
		b.WriteString("\nMore: call again with cursor=" + r.NextCursor)
	}
	return b.String()
}

// messageFlags are a message's labels in lists: "[junk] [unread] ".
func messageFlags(junk, isRead, hasAttachments bool) string {
	flags := ""
	if junk {
		flags += "[junk] "
	}
	if !isRead {
		flags += "[unread] "
	}
	if hasAttachments {
		flags += "[attachment] "
	}
	return flags
}

func orNone(subject string) string {
	if strings.TrimSpace(subject) == "" {
		return "(no subject)"
	}
	return subject
}

// ---- get_message ----

type GetMessageArgs struct {
	ID            string `json:"id" handle:"md" jsonschema_description:"Message id from search_mail."`
	IncludeQuoted bool   `json:"include_quoted,omitempty" jsonschema_description:"Also the earlier messages a reply quotes."`
	PageArgs
}

type Attachment struct {
	ID          string `json:"id" handle:"a"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	IsInline    bool   `json:"is_inline"`
}

type MessageResult struct {
	ID             string   `json:"id" handle:"m"`
	Subject        string   `json:"subject"`
	From           Person   `json:"from"`
	To             []Person `json:"to"`
	Cc             []Person `json:"cc,omitempty"`
	ReceivedAt     string   `json:"received_at"`
	IsRead         bool     `json:"is_read"`
	ConversationID string   `json:"conversation_id,omitempty" handle:"t"`
	WebLink        string   `json:"web_link,omitempty"`
	Body           string   `json:"body"`
	QuotedOmitted  bool     `json:"quoted_omitted,omitempty"`
	Paging
	Attachments []Attachment `json:"attachments"`
	Junk        bool         `json:"junk,omitempty" jsonschema_description:"In the Junk Email folder."`
	MessageState
	// EventID is the calendar event a meeting message is about, for
	// respond_to_event and get_event.
	EventID string `json:"event_id,omitempty" handle:"e"`
	// MeetingStart and MeetingEnd are the meeting's, in the zone of
	// received_at (dates when all day).
	MeetingStart string `json:"meeting_start,omitempty"`
	MeetingEnd   string `json:"meeting_end,omitempty"`

	meeting *invitation // the rest of it (where, your answer): in the text
	zone    userZone    // of the times
}

// invitation is what a meeting message says of its meeting.
type invitation struct {
	request            bool // an invitation (eventMessageRequest), not a response or cancellation
	start, end         string
	allDay, online     bool
	location, response string
}

// graphMeeting is the event a meeting message is about, expanded.
type graphMeeting struct {
	ID              string    `json:"id"`
	Start           graphTime `json:"start"`
	End             graphTime `json:"end"`
	IsAllDay        bool      `json:"isAllDay"`
	IsOnlineMeeting bool      `json:"isOnlineMeeting"`
	Location        struct {
		DisplayName string `json:"displayName"`
	} `json:"location"`
	ResponseStatus struct {
		Response string `json:"response"`
	} `json:"responseStatus"`
}

// invitation is what m says of its meeting; nil for other messages.
func (m graphThreadMessage) invitation() *invitation {
	e := m.Event
	if e == nil || e.ID == "" {
		return nil
	}
	when := func(t graphTime) string {
		wall, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", t.DateTime, time.UTC)
		if err != nil {
			return t.DateTime
		}
		if e.IsAllDay {
			return wall.Format(time.DateOnly)
		}
		return wall.Format(time.RFC3339)
	}
	return &invitation{
		request: m.ODataType == "#microsoft.graph.eventMessageRequest",
		start:   when(e.Start), end: when(e.End), allDay: e.IsAllDay, online: e.IsOnlineMeeting,
		location: e.Location.DisplayName, response: e.ResponseStatus.Response,
	}
}

// text is "Meeting invitation: Thu 26 Nov 2026 15:00–16:00, Teams,
// <location>; your answer: none yet. Event id e1: respond_to_event", in
// the zone the message's text names.
func (in *invitation) text(eventID string) string {
	var b strings.Builder
	b.WriteString("Meeting")
	if in.request {
		b.WriteString(" invitation")
	}
	var times listTimes
	b.WriteString(": " + times.span(in.start, in.end, in.allDay))
	if in.online {
		b.WriteString(", Teams")
	}
	if loc := strings.TrimSpace(in.location); loc != "" && !(in.online && strings.EqualFold(loc, "Microsoft Teams Meeting")) {
		b.WriteString(", " + untrusted(in.location))
	}
	switch in.response {
	case "", "none", "notResponded":
		if in.request {
			b.WriteString("; not answered yet")
		}
	case "organizer":
	default:
		b.WriteString("; you " + in.response)
	}
	fmt.Fprintf(&b, ". Event id %s", eventID)
	if in.request {
		b.WriteString(": respond_to_event answers it")
	}
	return b.String()
}

type graphAttachment struct {
	ODataType   string `json:"@odata.type"` // #microsoft.graph.fileAttachment, itemAttachment, referenceAttachment
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	IsInline    bool   `json:"isInline"`
}

func (a graphAttachment) attachment() Attachment {
	return Attachment{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size, IsInline: a.IsInline}
}

var getMessage = define("get_message", "Read a message",
	"Read one email: headers, text body (of a reply only its new text, unless include_quoted), attachment names and sizes. Use an id from search_mail.",
	[]string{"Mail.Read", "Mail.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in GetMessageArgs) (*MessageResult, error) {
		id, err := messageID("id", in.ID)
		if err != nil {
			return nil, err
		}
		maxChars, err := c.pageArgs(in.MaxChars, in.Offset, defaultPageChars)
		if err != nil {
			return nil, err
		}
		var m graphThreadMessage
		junk, zone := junkFolder(ctx, c, ""), userZoneOf(ctx, c)
		// HTML, converted here: Graph's own text conversion keeps what a
		// reader never sees (hidden preheaders).
		err = get(ctx, c, messagePath(id), "", url.Values{
			"$select": {"id,subject,from,toRecipients,ccRecipients,receivedDateTime,isRead,hasAttachments,conversationId,parentFolderId,webLink,body,uniqueBody,flag,importance,categories"},
			"$expand": {"attachments($select=id,name,contentType,size,isInline)," + meetingExpand},
		}, immutableIDs(), &m)
		isJunk, tz := junk(), zone() // waited for even after an error: no request outlives its call
		if err != nil {
			return nil, err
		}
		out := &MessageResult{
			ID: m.ID, Subject: m.Subject, From: m.sender(), To: people(m.ToRecipients), Cc: people(m.CcRecipients),
			ReceivedAt: tz.at(m.ReceivedDateTime), IsRead: m.IsRead, ConversationID: m.ConversationID, WebLink: m.WebLink,
			Attachments: []Attachment{}, Junk: isJunk(m.ParentFolderID), MessageState: m.state(),
			meeting: m.invitation(), zone: tz,
		}
		if out.meeting != nil {
			out.EventID = m.Event.ID
			out.meeting.start, out.meeting.end = tz.at(out.meeting.start), tz.at(out.meeting.end)
			out.MeetingStart, out.MeetingEnd = out.meeting.start, out.meeting.end
		}
		body := bodyText(m.Body.ContentType, m.Body.Content)
		if unique := bodyText(m.UniqueBody.ContentType, m.UniqueBody.Content); !in.IncludeQuoted && strings.TrimSpace(unique) != "" && len(unique) < len(body) {
			body, out.QuotedOmitted = unique, true
		}
		if out.Body, err = out.page(body, in.Offset, maxChars, false); err != nil {
			return nil, err
		}
		for _, a := range m.Attachments {
			out.Attachments = append(out.Attachments, a.attachment())
		}
		return out, nil
	})

// bodyText is a Graph body as tidy text: HTML converted in this process
// (x/net/html is memory-safe and linear: no sandbox needed), without what
// a reader never sees; text tidied as attachment text is.
func bodyText(contentType, content string) string {
	if strings.EqualFold(contentType, "html") {
		return extract.PlainText(content)
	}
	return extract.Tidy(content)
}

func (r *MessageResult) shrink() bool { return r.shrinkPage(&r.Body) }

// Text fences the headers others wrote (subject, names, attachment names)
// and the body apart, so that a body cannot pass for headers.
func (r *MessageResult) Text() string {
	var head strings.Builder
	fmt.Fprintf(&head, "Subject: %s\nFrom: %s\nTo: %s", orNone(r.Subject), r.From, joinPeople(r.To))
	if len(r.Cc) > 0 {
		fmt.Fprintf(&head, "\nCc: %s", joinPeople(r.Cc))
	}
	if len(r.Categories) > 0 {
		fmt.Fprintf(&head, "\nCategories: %s", strings.Join(r.Categories, ", "))
	}
	for _, a := range r.Attachments {
		fmt.Fprintf(&head, "\nAttachment: %s (%s, %s)", a.Name, a.ContentType, byteSize(a.Size))
	}
	label := ""
	if r.Junk {
		label = " [junk: in the Junk Email folder]"
	}
	if marks := r.marks(); marks != "" {
		label += " " + strings.TrimSpace(marks)
	}
	times := []string{r.ReceivedAt}
	if r.meeting != nil {
		times = append(times, r.meeting.start, r.meeting.end)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received %s (%s)%s%s\n", shortTime(r.ReceivedAt), r.zone.label(times...), label, r.zone.noteLine())
	if r.meeting != nil {
		b.WriteString(r.meeting.text(r.EventID) + "\n")
	}
	fmt.Fprintf(&b, "%s\n%s", untrusted(head.String()), untrusted(r.Body))
	if r.QuotedOmitted {
		b.WriteString("\n\n[Quoted earlier messages left out: include_quoted=true shows them]")
	}
	b.WriteString(r.readOn())
	return b.String()
}

// meetingExpand brings the event a meeting message (an invitation,
// response or cancellation) is about; other messages ignore the cast.
const meetingExpand = "microsoft.graph.eventMessage/event($select=id,start,end,isAllDay,location,isOnlineMeeting,responseStatus)"

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// ---- send_mail ----

type SendMailArgs struct {
	To              []string         `max:"500" json:"to" jsonschema_description:"Recipients: name@example.com or \"Name <name@example.com>\"."`
	Cc              []string         `max:"500" json:"cc,omitempty"`
	Bcc             []string         `max:"500" json:"bcc,omitempty"`
	Subject         string           `json:"subject"`
	Body            string           `max:"1048576" json:"body"`
	BodyFormat      string           `json:"body_format,omitempty" jsonschema:"enum=text,enum=html,default=text"`
	Importance      string           `json:"importance,omitempty" jsonschema:"enum=low,enum=normal,enum=high"`
	SaveToSentItems *bool            `json:"save_to_sent_items,omitempty" jsonschema:"default=true"`
	ReplyTo         []string         `json:"reply_to,omitempty" jsonschema_description:"Where replies should go instead of to the user."`
	Attachments     []FileAttachment `json:"attachments,omitempty" jsonschema_description:"Files to attach: at most 3 MB in all (decoded)."`
}

// FileAttachment is a file sent inline with a message.
type FileAttachment struct {
	Name          string `max:"255" json:"name" jsonschema_description:"File name the recipient sees, e.g. report.pdf."`
	ContentBase64 string `max:"4194304" json:"content_base64" jsonschema_description:"The file's bytes, base64-encoded."`
	ContentType   string `max:"255" json:"content_type,omitempty" jsonschema_description:"MIME type, e.g. application/pdf. Default: from the name's extension."`
}

type SendMailResult struct {
	Status          string   `json:"status" jsonschema_description:"accepted: Outlook took the message for delivery (not yet delivered)."`
	To              []string `json:"to"`
	Cc              []string `json:"cc,omitempty"`
	Bcc             []string `json:"bcc,omitempty"`
	ReplyTo         []string `json:"reply_to,omitempty"`
	Subject         string   `json:"subject"`
	Attachments     []string `json:"attachments,omitempty" jsonschema_description:"Names and sizes of the attached files."`
	SavedToSentItem bool     `json:"saved_to_sent_items"`
}

var sendMail = define("send_mail", "Send mail",
	"Send a new email now, as the user. It cannot be undone: confirm recipients, subject and body with the user first. Returns once Outlook accepted it for delivery.",
	[]string{"Mail.Send"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in SendMailArgs) (*SendMailResult, error) {
		msg := map[string]any{"subject": in.Subject}
		out := &SendMailResult{Status: "accepted", Subject: in.Subject, SavedToSentItem: in.SaveToSentItems == nil || *in.SaveToSentItems}
		var err error
		if out.To, out.Cc, out.Bcc, err = putRecipients(msg, in.To, in.Cc, in.Bcc); err != nil {
			return nil, err
		}
		if strings.TrimSpace(in.Subject) == "" {
			return nil, argError("subject", "is required")
		}
		if msg["body"], err = itemBody(in.BodyFormat, in.Body); err != nil {
			return nil, err
		}
		switch in.Importance {
		case "":
		case "low", "normal", "high":
			msg["importance"] = in.Importance
		default:
			return nil, argError("importance", "must be low, normal or high, not %q", in.Importance)
		}
		if len(in.ReplyTo) > 0 {
			if msg["replyTo"], err = recipientList("reply_to", in.ReplyTo, &out.ReplyTo); err != nil {
				return nil, err
			}
		}
		if len(in.Attachments) > 0 {
			if msg["attachments"], out.Attachments, err = fileAttachments(in.Attachments); err != nil {
				return nil, err
			}
		}
		if err := post(ctx, c, "/me/sendMail", map[string]any{"message": msg, "saveToSentItems": out.SavedToSentItem}, nil); err != nil {
			return nil, err
		}
		return out, nil
	})

// putRecipients validates the to, cc and bcc arguments, puts them into the
// Graph message msg and returns them in canonical form.
func putRecipients(msg map[string]any, to, cc, bcc []string) (canonTo, canonCc, canonBcc []string, err error) {
	total := 0
	for _, f := range []struct {
		arg, key string
		list     []string
		into     *[]string
	}{{"to", "toRecipients", to, &canonTo}, {"cc", "ccRecipients", cc, &canonCc}, {"bcc", "bccRecipients", bcc, &canonBcc}} {
		recipients, err := recipientList(f.arg, f.list, f.into)
		if err != nil {
			return nil, nil, nil, err
		}
		total += len(recipients)
		if len(recipients) > 0 {
			msg[f.key] = recipients
		}
	}
	if total > 500 {
		return nil, nil, nil, argError("to", "Outlook accepts at most 500 recipients in all, not %d", total)
	}
	return canonTo, canonCc, canonBcc, nil
}

// recipientList validates addresses, keeps their canonical form in into and
// returns Graph recipients.
func recipientList(arg string, list []string, into *[]string) ([]graphRecipient, error) {
	var out []graphRecipient
	for _, s := range list {
		a, err := parseRecipient(arg, s)
		if err != nil {
			return nil, err
		}
		out = append(out, graphRecipient{EmailAddress: graphEmail{Name: a.Name, Address: a.Address}})
		*into = append(*into, Person{Name: a.Name, Address: a.Address}.String())
	}
	return out, nil
}

// itemBody is Graph's body of a message from the body and body_format arguments.
func itemBody(format, content string) (map[string]string, error) {
	var contentType string
	switch strings.ToLower(format) {
	case "", "text":
		contentType = "Text"
	case "html":
		contentType = "HTML"
	default:
		return nil, argError("body_format", "must be text or html, not %q", format)
	}
	return map[string]string{"contentType": contentType, "content": content}, nil
}

// maxInlineAttachments is how much Outlook takes attached inline to one
// message (decoded, all files together); more needs an upload session.
const maxInlineAttachments = 3 << 20

// fileAttachments validates the attachments argument and returns Graph's
// fileAttachment objects, and each file's name and size for the result.
func fileAttachments(list []FileAttachment) ([]map[string]any, []string, error) {
	var out []map[string]any
	var names []string
	total := 0
	for i, a := range list {
		name := strings.TrimSpace(a.Name)
		if name == "" {
			return nil, nil, argError("attachments", "attachment %d has no name", i+1)
		}
		data, err := decodeBase64(a.ContentBase64)
		switch {
		case err != nil:
			return nil, nil, argError("attachments", "the content_base64 of %q is not valid base64 (%v)", name, err)
		case len(data) == 0:
			return nil, nil, argError("attachments", "%q is empty: content_base64 holds no bytes", name)
		}
		total += len(data)
		contentType := strings.TrimSpace(a.ContentType)
		if contentType == "" {
			contentType = cmp.Or(mime.TypeByExtension(path.Ext(name)), "application/octet-stream")
		}
		out = append(out, map[string]any{
			"@odata.type":  "#microsoft.graph.fileAttachment",
			"name":         name,
			"contentType":  contentType,
			"contentBytes": base64.StdEncoding.EncodeToString(data),
		})
		names = append(names, fmt.Sprintf("%s (%s)", name, byteSize(len(data))))
	}
	if total > maxInlineAttachments {
		return nil, nil, argError("attachments", "total %s, more than the %s Outlook takes attached to one message this way. Attach fewer or smaller files, or share a link to them instead", byteSize(total), byteSize(maxInlineAttachments))
	}
	return out, names, nil
}

// decodeBase64 reads standard base64, padded or not, wrapped in lines or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	if data, err := base64.StdEncoding.DecodeString(s); err == nil {
		return data, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func (r *SendMailResult) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sent: Outlook accepted %q for delivery to %s", r.Subject, recipientsText(r.To, r.Cc, r.Bcc))
	if len(r.ReplyTo) > 0 {
		b.WriteString("; replies to " + strings.Join(r.ReplyTo, ", "))
	}
	if len(r.Attachments) > 0 {
		b.WriteString("; attached " + strings.Join(r.Attachments, ", "))
	}
	if r.SavedToSentItem {
		b.WriteString(". A copy is in Sent Items.")
	} else {
		b.WriteString(". No copy was saved.")
	}
	return b.String()
}

// recipientsText is "to; cc ...; bcc ...".
func recipientsText(to, cc, bcc []string) string {
	s := strings.Join(to, ", ")
	if len(cc) > 0 {
		s += "; cc " + strings.Join(cc, ", ")
	}
	if len(bcc) > 0 {
		s += "; bcc " + strings.Join(bcc, ", ")
	}
	return s
}
