package tools

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Organizing mail: folders, threads, moving, flagging and deleting.

// ---- list_mail_folders ----

type ListMailFoldersArgs struct {
	ParentFolder string `json:"parent_folder,omitempty" handle:"f" jsonschema_description:"Folder id or well-known name: list its subfolders."`
	Limit        int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100,default=50"`
	Cursor       string `max:"4096" json:"cursor,omitempty" jsonschema_description:"The previous page's next_cursor; same arguments."`
}

type MailFolder struct {
	ID           string `json:"id" handle:"f"`
	Name         string `json:"name"`
	ParentID     string `json:"parent_id" handle:"f"`
	Unread       int    `json:"unread"`
	Total        int    `json:"total"`
	ChildFolders int    `json:"child_folders"`
}

type ListMailFoldersResult struct {
	Folders    []MailFolder `json:"folders"` // each followed by its subfolders
	NextCursor string       `json:"next_cursor,omitempty"`

	stop listStop
}

type graphFolder struct {
	ID               string `json:"id"`
	DisplayName      string `json:"displayName"`
	ParentFolderID   string `json:"parentFolderId"`
	UnreadItemCount  int    `json:"unreadItemCount"`
	TotalItemCount   int    `json:"totalItemCount"`
	ChildFolderCount int    `json:"childFolderCount"`
}

func (f graphFolder) folder() MailFolder {
	return MailFolder{ID: f.ID, Name: f.DisplayName, ParentID: f.ParentFolderID, Unread: f.UnreadItemCount, Total: f.TotalItemCount, ChildFolders: f.ChildFolderCount}
}

// maxExpanded bounds the extra Graph calls one listing makes for subfolders.
const maxExpanded = 10

var listMailFolders = define("list_mail_folders", "List mail folders",
	"List mail folders as a tree (subfolders one level down) with unread/total counts and the ids move_message and search_mail take. Default: the top-level folders.",
	[]string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in ListMailFoldersArgs) (*ListMailFoldersResult, error) {
		in, cur, err := listing("list_mail_folders", in, in.Cursor)
		if err != nil {
			return nil, err
		}
		limit, err := checkLimit(in.Limit, 50, 100)
		if err != nil {
			return nil, err
		}
		path := "/me/mailFolders"
		if strings.TrimSpace(in.ParentFolder) != "" {
			if path, err = childFoldersPath("parent_folder", in.ParentFolder); err != nil {
				return nil, err
			}
		}
		query := url.Values{"$select": {"id,displayName,parentFolderId,unreadItemCount,totalItemCount,childFolderCount"}, "$top": {strconv.Itoa(limit)}}
		var page graphPage[graphFolder]
		if err := get(ctx, c, path, cur.link(path, query), query, nil, &page); err != nil {
			return nil, err
		}
		page.Value = unseen(cur, page.Value)
		// One level of subfolders, fetched together, so that the model
		// sees where nested folders live without a call per folder.
		children := make([][]graphFolder, len(page.Value))
		errs := make([]error, len(page.Value))
		var wg sync.WaitGroup
		expanded := 0
		for i, f := range page.Value {
			if f.ChildFolderCount == 0 || expanded == maxExpanded {
				continue
			}
			expanded++
			wg.Go(func() {
				var sub graphPage[graphFolder]
				sq := url.Values{"$select": query["$select"], "$top": {"100"}}
				subPath, err := childFoldersPath("id", f.ID)
				if err == nil {
					err = get(ctx, c, subPath, "", sq, nil, &sub)
				}
				errs[i], children[i] = err, sub.Value
			})
		}
		wg.Wait()
		out := &ListMailFoldersResult{Folders: []MailFolder{}, NextCursor: newCursor("list_mail_folders", in, path, query, page.NextLink),
			stop: cur.stopper("list_mail_folders", in)}
		for i, f := range page.Value {
			if errs[i] != nil {
				return nil, errs[i]
			}
			// A stop among subfolders resumes at their parent: repeated, never lost.
			out.Folders = append(out.Folders, f.folder())
			out.stop.raw = append(out.stop.raw, i)
			for _, child := range children[i] {
				out.Folders = append(out.Folders, child.folder())
				out.stop.raw = append(out.stop.raw, i)
			}
		}
		return out, nil
	})

func (r *ListMailFoldersResult) shrink() bool { return stopEarly(&r.Folders, r.stop, &r.NextCursor) }

func childFoldersPath(arg, folder string) (string, error) {
	id, err := itemID(arg, "a folder id or well-known folder name", folder)
	if err != nil {
		return "", err
	}
	return "/me/mailFolders/" + url.PathEscape(id) + "/childFolders", nil
}

// Text is an indented tree: subfolders under their parent.
func (r *ListMailFoldersResult) Text() string {
	var b strings.Builder
	if len(r.Folders) == 0 {
		b.WriteString("No folders.")
	} else {
		b.WriteString("Mail folders (unread/total):")
	}
	listed := map[string]bool{}
	for _, f := range r.Folders {
		listed[f.ID] = true
		indent := "\n- "
		if listed[f.ParentID] {
			indent = "\n  - "
		}
		fmt.Fprintf(&b, "%s%s %d/%d", indent, f.Name, f.Unread, f.Total)
		shown := 0
		for _, c := range r.Folders {
			if c.ParentID == f.ID {
				shown++
			}
		}
		if shown < f.ChildFolders {
			fmt.Fprintf(&b, " (%d subfolders: list them with parent_folder)", f.ChildFolders)
		}
		b.WriteString(" id: " + f.ID)
	}
	if r.NextCursor != "" {
		b.WriteString("\nMore: call again with cursor=" + r.NextCursor)
	}
	return b.String()
}

// ---- get_thread ----

type GetThreadArgs struct {
	MessageID      string `json:"message_id,omitempty" handle:"md" jsonschema_description:"Any message of the thread (or give conversation_id)."`
	ConversationID string `json:"conversation_id,omitempty" handle:"t"`
	Limit          int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=50,default=20" jsonschema_description:"The latest N messages."`
	PageArgs
}

type ThreadMessage struct {
	ID         string `json:"id" handle:"m"`
	From       Person `json:"from"`
	ReceivedAt string `json:"received_at"`
	IsDraft    bool   `json:"is_draft,omitempty"`
	Junk       bool   `json:"junk,omitempty" jsonschema_description:"In the Junk Email folder."`
	// Attachments other than inline images: list_attachments names them.
	HasAttachments bool   `json:"has_attachments,omitempty"`
	Text           string `json:"text"` // uniqueBody: without the quoted earlier messages
	MessageState
	// The page holds part of the text: it began on the previous page
	// (continued), or goes on on the next (continues).
	Continued bool `json:"continued,omitempty"`
	Continues bool `json:"continues,omitempty"`
}

type ThreadResult struct {
	ConversationID string          `json:"conversation_id" handle:"t"`
	Subject        string          `json:"subject"`
	Messages       []ThreadMessage `json:"messages"`
	Omitted        int             `json:"omitted,omitempty" jsonschema_description:"Older messages not returned."`
	LatestID       string          `json:"latest_id,omitempty" handle:"m" jsonschema_description:"The thread's newest message, to reply to."`
	Paging

	all  []ThreadMessage // every message of the thread (but the omitted), whole: the pages are cut from them
	zone userZone        // of the times
}

// threadPage is how many messages of a conversation are read: Graph cannot
// sort them here, so they are sorted after reading.
const threadPage = 50

var getThread = define("get_thread", "Read a conversation",
	"Read an email conversation oldest first, each message with only its new text (no quoted replies). Give message_id (any message in it) or conversation_id.",
	[]string{"Mail.Read", "Mail.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in GetThreadArgs) (*ThreadResult, error) {
		byMessage := strings.TrimSpace(in.MessageID) != ""
		switch byConversation := strings.TrimSpace(in.ConversationID) != ""; {
		case byMessage && byConversation:
			return nil, argError("message_id", "give message_id or conversation_id, not both")
		case !byMessage && !byConversation:
			return nil, argError("message_id", "or conversation_id is required")
		}
		var id string
		var err error
		if byMessage {
			id, err = messageID("message_id", in.MessageID)
		} else {
			id, err = itemID("conversation_id", "a conversation id", in.ConversationID)
		}
		if err != nil {
			return nil, err
		}
		limit, err := checkLimit(in.Limit, 20, 50)
		if err != nil {
			return nil, err
		}
		maxChars, err := c.pageArgs(in.MaxChars, in.Offset, defaultPageChars)
		if err != nil {
			return nil, err
		}
		conversationID := id
		if byMessage {
			var m graphMessage
			if err := get(ctx, c, messagePath(id), "", url.Values{"$select": {"conversationId"}}, nil, &m); err != nil {
				return nil, err
			}
			conversationID = m.ConversationID
		}
		var page graphPage[graphThreadMessage]
		junk, zone := junkFolder(ctx, c, ""), userZoneOf(ctx, c)
		err = get(ctx, c, "/me/messages", "", url.Values{
			"$filter": {"conversationId eq " + odataString(conversationID)},
			"$select": {"id,subject,from,receivedDateTime,isDraft,parentFolderId,uniqueBody,hasAttachments,flag,importance,categories"},
			"$top":    {strconv.Itoa(threadPage)},
		}, immutableIDs(), &page) // HTML, converted here (see bodyText)
		isJunk, tz := junk(), zone()
		if err != nil {
			return nil, err
		}
		msgs := page.Value
		slices.SortStableFunc(msgs, func(a, b graphThreadMessage) int { return strings.Compare(a.ReceivedDateTime, b.ReceivedDateTime) })
		out := &ThreadResult{ConversationID: conversationID, Messages: []ThreadMessage{}, zone: tz}
		if len(msgs) > 0 {
			out.Subject = msgs[0].Subject
		}
		if len(msgs) > limit {
			out.Omitted = len(msgs) - limit
			msgs = msgs[len(msgs)-limit:]
		}
		for _, m := range msgs {
			out.all = append(out.all, ThreadMessage{
				ID: m.ID, From: m.sender(), ReceivedAt: tz.at(m.ReceivedDateTime), IsDraft: m.IsDraft, Junk: isJunk(m.ParentFolderID),
				HasAttachments: m.HasAttachments, MessageState: m.state(),
				Text: bodyText(m.UniqueBody.ContentType, m.UniqueBody.Content),
			})
		}
		if len(out.all) > 0 {
			out.LatestID = out.all[len(out.all)-1].ID
		}
		if _, err := out.page(out.transcript(), in.Offset, maxChars, false); err != nil {
			return nil, err
		}
		out.layout(maxChars)
		return out, nil
	})

// threadGap separates the messages' texts in the thread's paged text.
const threadGap = "\n\n"

// transcript is the text a thread is paged through: every message's new
// text, oldest first, a blank line between.
func (r *ThreadResult) transcript() string {
	texts := make([]string, len(r.all))
	for i, m := range r.all {
		texts[i] = m.Text
	}
	return strings.Join(texts, threadGap)
}

// layout cuts the page of at most n characters from the page's offset,
// and shows the messages it holds, each with the part of its text there.
func (r *ThreadResult) layout(n int) {
	page := r.cut(n)
	from, to := r.offset, r.offset+utf8.RuneCountInString(page)
	r.Messages = []ThreadMessage{}
	start := 0
	for _, m := range r.all {
		end := start + utf8.RuneCountInString(m.Text)
		if start < to && (end > from || start >= from) {
			text := []rune(m.Text)
			m.Continued, m.Continues = start < from, end > to
			m.Text = string(text[max(from, start)-start : min(to, end)-start])
			r.Messages = append(r.Messages, m)
		}
		start = end + len(threadGap)
	}
}

func (r *ThreadResult) shrink() bool {
	n := 0
	for _, m := range r.Messages {
		n += utf8.RuneCountInString(m.Text)
	}
	if n < 200 {
		return false
	}
	r.layout(n * 3 / 4)
	return true
}

type graphThreadMessage struct {
	graphMessage
	ODataType  string        `json:"@odata.type"`
	Event      *graphMeeting `json:"event"` // a meeting message's event, when expanded
	IsDraft    bool          `json:"isDraft"`
	UniqueBody struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"uniqueBody"`
}

// Text is one block per message: its time, then its sender and new text
// fenced, a fence per message so that no text can pass for the next one.
func (r *ThreadResult) Text() string {
	if len(r.all) == 0 {
		return "No messages in this conversation (check the id)."
	}
	received := make([]string, len(r.Messages))
	for i, m := range r.Messages {
		received[i] = m.ReceivedAt
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Thread of %d messages, oldest first (%s)", len(r.all), r.zone.label(received...))
	if r.Omitted > 0 {
		fmt.Fprintf(&b, " (%d older not shown: raise limit)", r.Omitted)
	}
	b.WriteString(", subject: " + untrusted(orNone(r.Subject)) + r.zone.noteLine())
	var times listTimes
	for _, m := range r.Messages {
		b.WriteString("\n\n" + times.next(m.ReceivedAt))
		if m.IsDraft {
			b.WriteString(" [draft]")
		}
		if m.Junk {
			b.WriteString(" [junk]")
		}
		if m.HasAttachments {
			b.WriteString(" [attachment]")
		}
		if marks := m.marks(); marks != "" {
			b.WriteString(" " + strings.TrimSpace(marks))
		}
		if m.Continued {
			b.WriteString(" (continued)")
		}
		cats := ""
		if len(m.Categories) > 0 {
			cats = "[cat: " + strings.Join(m.Categories, ", ") + "] "
		}
		b.WriteString("\n" + untrusted(cats+m.From.String()+":\n"+m.Text))
	}
	b.WriteString(r.readOn())
	fmt.Fprintf(&b, "\n\nLatest message id: %s", r.LatestID)
	return b.String()
}

// ---- move_message, delete_message ----

type MoveMessageArgs struct {
	MessageID   string `json:"message_id" handle:"md"`
	Destination string `json:"destination" handle:"f" jsonschema_description:"Well-known folder (inbox, archive, deleteditems, junkemail...) or a folder id from list_mail_folders."`
}

type DeleteMessageArgs struct {
	MessageID string `json:"message_id" handle:"md"`
}

type MoveResult struct {
	ID       string `json:"id" handle:"m" jsonschema_description:"The message's id from now on."`
	Subject  string `json:"subject"`
	Folder   string `json:"folder"`
	FolderID string `json:"folder_id" handle:"f"`

	moved   bool // its id changed: a mailbox without immutable ids
	deleted bool
}

var moveMessage = define("move_message", "Move a message",
	"Move an email to another folder (archive, a project folder...). Returns the folder and the message's id from now on: an id can change with a move.",
	[]string{"Mail.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in MoveMessageArgs) (*MoveResult, error) {
		dest := strings.TrimSpace(in.Destination)
		if dest == "" {
			return nil, argError("destination", "is required")
		}
		if !slices.Contains(wellKnownFolders, strings.ToLower(dest)) && !folderID.MatchString(dest) {
			return nil, argError("destination", "%s is neither a well-known folder (inbox, archive, deleteditems, junkemail...) nor a folder id: get ids with list_mail_folders", quoteShort(in.Destination))
		}
		return move(ctx, c, in.MessageID, dest)
	})

var deleteMessage = define("delete_message", "Delete a message",
	"Delete an email: it moves to Deleted Items, where the user can still recover it (never a permanent delete).",
	[]string{"Mail.ReadWrite"},
	Hints{ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in DeleteMessageArgs) (*MoveResult, error) {
		res, err := move(ctx, c, in.MessageID, "deleteditems")
		if res != nil {
			res.deleted = true
		}
		return res, err
	})

// wellKnownFolders are the folder names Graph accepts wherever a folder id goes.
var wellKnownFolders = []string{"archive", "clutter", "conflicts", "conversationhistory", "deleteditems", "drafts", "inbox",
	"junkemail", "localfailures", "msgfolderroot", "outbox", "recoverableitemsdeletions", "scheduled", "searchfolders",
	"sentitems", "serverfailures", "syncissues"}

// folderID is the shape of an Exchange folder id (base64url): it tells a
// display name passed by mistake from an id.
var folderID = regexp.MustCompile(`^[A-Za-z0-9_=+/-]{16,512}$`)

// move moves a message with POST .../move, never retried on a 5xx (the
// first attempt may have moved it), and names the folder it landed in.
func move(ctx context.Context, c *Call, message, destination string) (*MoveResult, error) {
	id, err := messageID("message_id", message)
	if err != nil {
		return nil, err
	}
	var m graphMessageState
	err = c.Conn.Do(ctx, nango.Request{
		Method: http.MethodPost, Path: messagePath(id) + "/move",
		Header: http.Header{"Prefer": {preferImmutableID}},
		Body:   map[string]string{"destinationId": destination},
	}, &m)
	if err != nil {
		return nil, err
	}
	out := &MoveResult{ID: m.ID, Subject: m.Subject, Folder: destination, FolderID: m.ParentFolderID, moved: m.ID != id}
	// The name is a courtesy: the move is done whether or not it is found.
	var f graphFolder
	if folder, err := itemID("parentFolderId", "a folder id", m.ParentFolderID); err == nil && get(ctx, c, "/me/mailFolders/"+url.PathEscape(folder), "", url.Values{"$select": {"displayName"}}, nil, &f) == nil && f.DisplayName != "" {
		out.Folder = f.DisplayName
	}
	return out, nil
}

func (r *MoveResult) Text() string {
	var b strings.Builder
	if r.deleted {
		fmt.Fprintf(&b, "Deleted %s: it is in %s, where it can be recovered.", untrusted(orNone(r.Subject)), r.Folder)
	} else {
		fmt.Fprintf(&b, "Moved %s to %s.", untrusted(orNone(r.Subject)), r.Folder)
	}
	if !r.moved {
		b.WriteString(" Its id is unchanged: " + r.ID)
	} else {
		b.WriteString(" Its id is now " + r.ID + " (the old one no longer works).")
	}
	return b.String()
}

// ---- update_message ----

type UpdateMessageArgs struct {
	MessageID  string    `json:"message_id" handle:"md"`
	IsRead     *bool     `json:"is_read,omitempty"`
	Flag       string    `json:"flag,omitempty" jsonschema:"enum=flagged,enum=complete,enum=notFlagged"`
	Categories *[]string `json:"categories,omitempty" jsonschema_description:"Replaces the categories; [] clears them."`
	Importance string    `json:"importance,omitempty" jsonschema:"enum=low,enum=normal,enum=high"`
}

type UpdateMessageResult struct {
	ID         string   `json:"id" handle:"m"`
	Subject    string   `json:"subject"`
	Changed    []string `json:"changed"` // the arguments given; the values are Outlook's
	IsRead     bool     `json:"is_read"`
	Flag       string   `json:"flag"`
	Categories []string `json:"categories"`
	Importance string   `json:"importance"`
}

// graphMessageState is a message's organizing properties, as PATCH and
// move return them.
type graphMessageState struct {
	ID             string   `json:"id"`
	Subject        string   `json:"subject"`
	ParentFolderID string   `json:"parentFolderId"`
	IsRead         bool     `json:"isRead"`
	Importance     string   `json:"importance"`
	Categories     []string `json:"categories"`
	Flag           struct {
		FlagStatus string `json:"flagStatus"`
	} `json:"flag"`
}

var updateMessage = define("update_message", "Update a message",
	"Mark an email read or unread, flag it (or mark the flag complete), set its categories or importance. Only the given properties change.",
	[]string{"Mail.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in UpdateMessageArgs) (*UpdateMessageResult, error) {
		id, err := messageID("message_id", in.MessageID)
		if err != nil {
			return nil, err
		}
		patch := map[string]any{}
		if in.IsRead != nil {
			patch["isRead"] = *in.IsRead
		}
		if in.Flag != "" {
			if err := oneOf("flag", in.Flag, "flagged", "complete", "notFlagged"); err != nil {
				return nil, err
			}
			patch["flag"] = map[string]string{"flagStatus": in.Flag}
		}
		if in.Categories != nil {
			categories := []string{}
			for _, cat := range *in.Categories {
				if cat = strings.TrimSpace(cat); cat == "" {
					return nil, argError("categories", "cannot hold an empty name")
				}
				categories = append(categories, cat)
			}
			patch["categories"] = categories
		}
		if in.Importance != "" {
			if err := oneOf("importance", in.Importance, "low", "normal", "high"); err != nil {
				return nil, err
			}
			patch["importance"] = in.Importance
		}
		if len(patch) == 0 {
			return nil, &inputError{msg: "nothing to change: give is_read, flag, categories or importance"}
		}
		var m graphMessageState
		err = c.Conn.Do(ctx, nango.Request{
			Method: http.MethodPatch, Path: messagePath(id), Idempotent: true,
			Header: http.Header{"Prefer": {preferImmutableID}}, Body: patch,
		}, &m)
		if err != nil {
			return nil, err
		}
		out := &UpdateMessageResult{ID: m.ID, Subject: m.Subject, IsRead: m.IsRead, Flag: m.Flag.FlagStatus,
			Categories: m.Categories, Importance: m.Importance, Changed: []string{}}
		if out.Categories == nil {
			out.Categories = []string{}
		}
		for _, p := range []struct{ graph, arg string }{{"isRead", "is_read"}, {"flag", "flag"}, {"categories", "categories"}, {"importance", "importance"}} {
			if _, ok := patch[p.graph]; ok {
				out.Changed = append(out.Changed, p.arg)
			}
		}
		return out, nil
	})

func (r *UpdateMessageResult) Text() string {
	var parts []string
	for _, p := range r.Changed {
		switch p {
		case "is_read":
			parts = append(parts, "marked "+readState(r.IsRead))
		case "flag":
			parts = append(parts, "flag "+r.Flag)
		case "categories":
			parts = append(parts, "categories: "+cmp.Or(strings.Join(r.Categories, ", "), "none"))
		case "importance":
			parts = append(parts, "importance "+r.Importance)
		}
	}
	return fmt.Sprintf("Updated %s: %s. id: %s", untrusted(orNone(r.Subject)), strings.Join(parts, "; "), r.ID)
}

func readState(read bool) string {
	if read {
		return "read"
	}
	return "unread"
}

// ---- shared ----

// oneOf checks an enumerated argument.
func oneOf(arg, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return argError(arg, "must be %s or %s, not %q", strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1], v)
}
