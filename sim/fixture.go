package sim

// The fixture (testdata/mailbox.json) describes one mailbox. Its times are
// relative to the simulator's clock, so the sandbox always looks live:
//
//	"-3h", "-90m", "+45m"    an exact offset from now (Go duration syntax)
//	"-2d 09:15"              two days before today, at 09:15
//	"+1d 14:00", "0d 10:30"  tomorrow at 14:00; today at 10:30
//	"-3wd 16:00", "+1wd"     three weekdays (Mon-Fri) before today at 16:00;
//	                         the next weekday at midnight
//	"0wd 13:00"              today at 13:00, or next Monday on a weekend
//	"+fri 17:00"             the next Friday (today, on a Friday) at 17:00
//	"now", "2026-11-25T09:12:00Z"
//
// All times are UTC; a day without a time means midnight (all-day events).
// Messages get a few seconds of deterministic jitter, as real mail does.
// Recipients are written "Display Name <address>". Ids are opaque strings
// of at least 16 base64url characters; Graph-looking ones are derived for
// whatever the fixture leaves out (conversation ids, internet message ids).

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type rawFixture struct {
	Comment         string        `json:"_comment"`
	Me              user          `json:"me"`
	RootFolderID    string        `json:"rootFolderId"`
	Folders         []rawFolder   `json:"mailFolders"`
	Messages        []rawMessage  `json:"messages"`
	Calendars       []rawCalendar `json:"calendars"`
	Events          []rawEvent    `json:"events"`
	MailboxSettings *rawSettings  `json:"mailboxSettings"`
	ContactFolderID string        `json:"contactFolderId"`
	Contacts        []rawContact  `json:"contacts"`
	People          []rawPerson   `json:"people"`
	Users           []user        `json:"users"`
	Schedules       []rawSchedule `json:"schedules"` // free/busy of the user and colleagues (schedule.go)
}

type rawFolder struct {
	ID            string `json:"id"`
	DisplayName   string `json:"displayName"`
	WellKnownName string `json:"wellKnownName"`
	Parent        string `json:"parentFolderId"` // default: the root
}

type rawMessage struct {
	ID                string          `json:"id"`
	Folder            string          `json:"folder"` // well-known name or folder id
	ConversationID    string          `json:"conversationId"`
	InternetMessageID string          `json:"internetMessageId"`
	Received          string          `json:"receivedDateTime"`
	Sent              string          `json:"sentDateTime"` // default: shortly before received
	From              string          `json:"from"`
	To                []string        `json:"toRecipients"`
	Cc                []string        `json:"ccRecipients"`
	Bcc               []string        `json:"bccRecipients"`
	ReplyTo           []string        `json:"replyTo"`
	Subject           string          `json:"subject"`
	BodyType          string          `json:"bodyType"` // "html" (default) or "text"
	Body              string          `json:"body"`     // HTML: the inside of <body>
	IsRead            bool            `json:"isRead"`
	Importance        string          `json:"importance"`
	Categories        []string        `json:"categories"`
	Flag              string          `json:"flag"`
	FlagDue           string          `json:"flagDue"` // the flag's due day (a time of day is dropped)
	Inference         string          `json:"inferenceClassification"`
	MeetingRequestFor string          `json:"meetingRequestFor"` // event id: the message invites to it
	Attachments       []rawAttachment `json:"attachments"`
}

type rawAttachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	IsInline    bool   `json:"isInline"`
	ContentID   string `json:"contentId"`
	Content     string `json:"content"`      // text content (an attached item: its MIME)
	Bytes       string `json:"contentBytes"` // or binary content, base64
	Text        string `json:"text"`         // or the text of a file the fixture describes: made a real file of its type (files.go)
	Type        string `json:"@odata.type"`  // default #microsoft.graph.fileAttachment
}

type rawCalendar struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Color     string `json:"color"`
	HexColor  string `json:"hexColor"`
	IsDefault bool   `json:"isDefaultCalendar"`
}

type rawEvent struct {
	ID              string         `json:"id"`
	Calendar        string         `json:"calendar"` // calendar id; "" = the default calendar
	ICalUID         string         `json:"iCalUId"`
	Subject         string         `json:"subject"`
	Body            string         `json:"body"`
	Start           string         `json:"start"`
	End             string         `json:"end"`
	Duration        string         `json:"duration"` // instead of end: "30m", "1h"
	IsAllDay        bool           `json:"isAllDay"`
	Location        string         `json:"location"`
	Organizer       string         `json:"organizer"` // "" = the mailbox owner
	Attendees       []rawAttendee  `json:"attendees"` // the owner's own entry gives their response
	IsOnlineMeeting bool           `json:"isOnlineMeeting"`
	ShowAs          string         `json:"showAs"`
	IsCancelled     bool           `json:"isCancelled"`
	Recurrence      *rawRecurrence `json:"recurrence"`
	Categories      []string       `json:"categories"`
	Importance      string         `json:"importance"`
	Sensitivity     string         `json:"sensitivity"`
}

type rawAttendee struct {
	EmailAddress string `json:"emailAddress"`
	Type         string `json:"type"`     // required (default), optional, resource
	Response     string `json:"response"` // accepted, tentativelyAccepted, declined, none (default)
}

type rawRecurrence struct {
	Type        string   `json:"type"` // daily, weekly
	Interval    int      `json:"interval"`
	DaysOfWeek  []string `json:"daysOfWeek"` // weekly; default: the weekday of start
	Range       string   `json:"range"`      // noEnd (default), endDate, numbered
	EndDate     string   `json:"endDate"`    // relative day
	Occurrences int      `json:"numberOfOccurrences"`
}

type rawContact struct {
	ID             string   `json:"id"`
	DisplayName    string   `json:"displayName"`
	GivenName      string   `json:"givenName"`
	Surname        string   `json:"surname"`
	EmailAddresses []string `json:"emailAddresses"`
	BusinessPhones []string `json:"businessPhones"`
	MobilePhone    string   `json:"mobilePhone"`
	CompanyName    string   `json:"companyName"`
	JobTitle       string   `json:"jobTitle"`
	Department     string   `json:"department"`
	OfficeLocation string   `json:"officeLocation"`
	Categories     []string `json:"categories"`
	PersonalNotes  string   `json:"personalNotes"`
	Created        string   `json:"createdDateTime"`

	Birthday        string          `json:"birthday"` // as Graph writes it: 1986-05-14T11:59:00Z
	BusinessAddress physicalAddress `json:"businessAddress"`
	HomeAddress     physicalAddress `json:"homeAddress"`
}

type rawPerson struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	JobTitle          string   `json:"jobTitle"`
	CompanyName       string   `json:"companyName"`
	Department        string   `json:"department"`
	OfficeLocation    string   `json:"officeLocation"`
	UserPrincipalName string   `json:"userPrincipalName"`
	EmailAddresses    []string `json:"emailAddresses"`
	Phone             string   `json:"phone"`       // business
	MobilePhone       string   `json:"mobilePhone"` // mobile
	Subclass          string   `json:"subclass"`    // OrganizationUser (default), PersonalContact, ImplicitContact
}

// mailbox is the simulated store.
type mailbox struct {
	me              *user
	rootFolderID    string
	folders         []*folder
	messages        []*message
	calendars       []*calendar
	events          []*event
	settings        *mailboxSettings
	contactFolderID string
	contacts        []*contact
	people          []*person
	users           []*user
	schedules       map[string]*schedule // by lower-case address
}

// clock resolves the fixture's relative times.
type clock struct{ now, today time.Time }

var nextWeekday = regexp.MustCompile(`^\+(mon|tue|wed|thu|fri|sat|sun)((?:\s+\d{1,2}:\d{2})?)$`)

var relDay = regexp.MustCompile(`^([+-]?\d+)(d|wd)(?:\s+(\d{1,2}):(\d{2}))?$`)

func (c clock) resolve(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return c.now, nil
	}
	if m := nextWeekday.FindStringSubmatch(s); m != nil {
		// "+fri 17:00": the next Friday, today if it is one.
		day := c.today
		for !strings.EqualFold(day.Weekday().String()[:3], m[1]) {
			day = day.AddDate(0, 0, 1)
		}
		s = fmt.Sprintf("%dd%s", int(day.Sub(c.today).Hours())/24, m[2])
	}
	if m := relDay.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		day := c.today.AddDate(0, 0, n)
		if m[2] == "wd" {
			day = addWeekdays(c.today, n)
		}
		if m[3] != "" {
			h, _ := strconv.Atoi(m[3])
			min, _ := strconv.Atoi(m[4])
			if h > 23 || min > 59 {
				return time.Time{}, fmt.Errorf("bad time of day in %q", s)
			}
			day = day.Add(time.Duration(h)*time.Hour + time.Duration(min)*time.Minute)
		}
		return day, nil
	}
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("bad relative time %q", s)
		}
		return c.now.Add(d).Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q: want a relative time (-2d 09:15, -3h, +1wd 10:00) or RFC 3339", s)
	}
	return t.UTC(), nil
}

func weekend(d time.Time) bool { return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday }

// addWeekdays moves n weekdays from day; 0 means day itself, or the next
// Monday when day falls on a weekend.
func addWeekdays(day time.Time, n int) time.Time {
	if n == 0 {
		for weekend(day) {
			day = day.AddDate(0, 0, 1)
		}
		return day
	}
	step := 1
	if n < 0 {
		step = -1
	}
	for n != 0 {
		day = day.AddDate(0, 0, step)
		if !weekend(day) {
			n -= step
		}
	}
	return day
}

// hash64 is a stable pseudo-random number derived from parts.
func hash64(parts ...string) uint64 {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return binary.BigEndian.Uint64(h[:8])
}

// derivedID makes a stable Exchange-looking id: prefix, then base64url.
func derivedID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + base64.URLEncoding.EncodeToString(h[:])
}

// parseAddress reads "Display Name <address>" or a bare address.
func parseAddress(s string) recipient {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "<"); i >= 0 && strings.HasSuffix(s, ">") {
		return recipient{Name: strings.Trim(strings.TrimSpace(s[:i]), `"`), Address: s[i+1 : len(s)-1]}
	}
	return recipient{Name: s, Address: s}
}

func parseAddresses(list []string) []recipient {
	out := make([]recipient, 0, len(list))
	for _, s := range list {
		out = append(out, parseAddress(s))
	}
	return out
}

// loadMailbox parses the fixture and resolves it against now.
func loadMailbox(data []byte, now time.Time) (*mailbox, error) {
	var raw rawFixture
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // catch typos in the fixture
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	raw.Messages = append(raw.Messages, largeMessages()...)
	raw.Events = append(raw.Events, largeEvents()...)
	c := clock{now: now.Truncate(time.Second), today: now.Truncate(24 * time.Hour)}
	me := raw.Me
	if me.ID == "" || me.UserPrincipalName == "" {
		return nil, errors.New("me needs an id and a userPrincipalName")
	}
	b := &mailbox{me: &me, rootFolderID: raw.RootFolderID, contactFolderID: raw.ContactFolderID}
	// Exchange items share one id space; people and users (directory
	// GUIDs, a person's id being its user's id) have their own.
	ids := map[string]string{}
	unique := func(kind, id string) error {
		key := id
		if kind == "person" || kind == "user" {
			key = kind + ":" + id
		} else if !validID(id) {
			return fmt.Errorf("%s id %q is not a valid Exchange id (16+ base64url characters)", kind, id)
		}
		if prev, dup := ids[key]; dup {
			return fmt.Errorf("%s id %q is already used by a %s", kind, id, prev)
		}
		ids[key] = kind
		return nil
	}
	for _, f := range raw.Folders {
		if err := unique("folder", f.ID); err != nil {
			return nil, err
		}
		parent := f.Parent
		if parent == "" {
			parent = raw.RootFolderID
		}
		b.folders = append(b.folders, &folder{id: f.ID, name: f.DisplayName, wellKnown: f.WellKnownName, parent: parent})
	}
	for _, rm := range raw.Messages {
		if err := unique("message", rm.ID); err != nil {
			return nil, err
		}
		m, err := b.loadMessage(rm, c)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", rm.ID, err)
		}
		b.messages = append(b.messages, m)
	}
	b.quoteReplies()
	for _, rc := range raw.Calendars {
		if err := unique("calendar", rc.ID); err != nil {
			return nil, err
		}
		b.calendars = append(b.calendars, &calendar{id: rc.ID, name: rc.Name, color: rc.Color, hexColor: rc.HexColor, isDefault: rc.IsDefault})
	}
	if b.defaultCalendar() == nil {
		return nil, errors.New("no calendar has isDefaultCalendar")
	}
	for _, re := range raw.Events {
		if err := unique("event", re.ID); err != nil {
			return nil, err
		}
		e, err := b.loadEvent(re, c)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", re.ID, err)
		}
		b.events = append(b.events, e)
	}
	for _, m := range b.messages {
		if m.meetingEvent != "" && b.event(m.meetingEvent) == nil {
			return nil, fmt.Errorf("message %s: meetingRequestFor: no event %s", m.id, m.meetingEvent)
		}
	}
	settings, err := loadSettings(raw.MailboxSettings, c)
	if err != nil {
		return nil, fmt.Errorf("mailboxSettings: %w", err)
	}
	b.settings = settings
	for _, rc := range raw.Contacts {
		if err := unique("contact", rc.ID); err != nil {
			return nil, err
		}
		created, err := c.resolve(cmp.Or(rc.Created, "-200d 10:00"))
		if err != nil {
			return nil, fmt.Errorf("contact %s: %w", rc.ID, err)
		}
		b.contacts = append(b.contacts, &contact{rawContact: rc, immID: immutableID(rc.ID), created: created, emails: parseAddresses(rc.EmailAddresses)})
	}
	for i, rp := range raw.People {
		if err := unique("person", rp.ID); err != nil {
			return nil, err
		}
		b.people = append(b.people, &person{rawPerson: rp, rank: i})
	}
	for i := range raw.Users {
		if err := unique("user", raw.Users[i].ID); err != nil {
			return nil, err
		}
		b.users = append(b.users, &raw.Users[i])
	}
	if err := b.loadSchedules(raw.Schedules, c); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *mailbox) loadMessage(rm rawMessage, c clock) (*message, error) {
	f := b.folder(rm.Folder)
	if f == nil {
		return nil, fmt.Errorf("unknown folder %q", rm.Folder)
	}
	received, err := c.resolve(rm.Received)
	if err != nil {
		return nil, fmt.Errorf("receivedDateTime: %w", err)
	}
	var due time.Time
	if rm.FlagDue != "" {
		if due, err = c.resolve(rm.FlagDue); err != nil {
			return nil, fmt.Errorf("flagDue: %w", err)
		}
		due = due.Truncate(24 * time.Hour)
	}
	jitter := hash64(rm.ID)
	received = received.Add(time.Duration(5+jitter%50) * time.Second)
	sent := received.Add(-time.Duration(2+jitter/64%40) * time.Second)
	if rm.Sent != "" {
		if sent, err = c.resolve(rm.Sent); err != nil {
			return nil, fmt.Errorf("sentDateTime: %w", err)
		}
	}
	from := parseAddress(cmp.Or(rm.From, b.me.DisplayName+" <"+b.me.mailAddress()+">"))
	m := &message{
		id:             rm.ID,
		folderID:       f.id,
		conversationID: rm.ConversationID,
		internetID:     rm.InternetMessageID,
		subject:        rm.Subject,
		body:           content{html: !strings.EqualFold(rm.BodyType, "text"), text: strings.TrimSpace(rm.Body)},
		from:           from,
		to:             parseAddresses(rm.To),
		cc:             parseAddresses(rm.Cc),
		bcc:            parseAddresses(rm.Bcc),
		replyTo:        parseAddresses(rm.ReplyTo),
		received:       received,
		sent:           sent,
		isRead:         rm.IsRead || f.wellKnown == "sentitems" || f.wellKnown == "drafts",
		isDraft:        f.wellKnown == "drafts",
		importance:     cmp.Or(rm.Importance, "normal"),
		categories:     rm.Categories,
		flag:           cmp.Or(rm.Flag, "notFlagged"),
		flagDue:        due,
		inference:      cmp.Or(rm.Inference, "focused"),
		meetingEvent:   rm.MeetingRequestFor,
	}
	if m.conversationID == "" {
		m.conversationID = derivedID("AAQkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQAQA", "conversation", rm.ID)
	}
	if m.internetID == "" {
		m.internetID = internetMessageID(m.id, from.Address)
	}
	for _, ra := range rm.Attachments {
		a := &attachment{id: ra.ID, name: ra.Name, contentType: ra.ContentType, inline: ra.IsInline, contentID: ra.ContentID, modified: sent}
		switch kind := strings.TrimPrefix(ra.Type, "#microsoft.graph."); kind {
		case "", fileAttachment:
		case itemAttachment, referenceAttachment:
			a.kind = kind
		default:
			return nil, fmt.Errorf("attachment %q: unknown @odata.type %q", ra.Name, ra.Type)
		}
		if a.id == "" {
			a.id = strings.TrimSuffix(m.id, "=") + "BEgAQA" + derivedID("", "attachment", m.id, ra.Name)[:12] + "="
		}
		var err error
		switch {
		case ra.Bytes != "":
			if a.data, err = base64.StdEncoding.DecodeString(ra.Bytes); err != nil {
				return nil, fmt.Errorf("attachment %q: contentBytes: %w", ra.Name, err)
			}
		case ra.Content != "":
			a.data = []byte(ra.Content)
		default:
			a.data = renderFile(ra.ContentType, ra.Name, ra.Text)
		}
		// A size the fixture states stands for a file it only describes;
		// otherwise the size is the bytes plus Exchange's overhead.
		a.size = ra.Size
		if a.size == 0 {
			a.size = len(a.data) + 180
		}
		m.attachments = append(m.attachments, a)
	}
	m.unique = m.body
	m.finish()
	return m, nil
}

// internetMessageID makes a Message-ID in the style of the sender's server.
func internetMessageID(id, from string) string {
	h := hash64("mid", id)
	domain := from[strings.LastIndex(from, "@")+1:]
	if strings.HasSuffix(domain, "contoso.com") {
		return fmt.Sprintf("<SA1PR11MB%04d%08X%04X@SA1PR11MB%04d.namprd11.prod.outlook.com>", h%9000+1000, uint32(h>>16), uint16(h>>48), h%9000+1000)
	}
	return fmt.Sprintf("<%016x.%d@mail.%s>", h, h%100000, domain)
}

// quoteReplies appends, to every reply or forward, the message it answers
// quoted the way Outlook does; its uniqueBody stays the new part only.
func (b *mailbox) quoteReplies() {
	byConv := map[string][]*message{}
	for _, m := range b.messages {
		byConv[m.conversationID] = append(byConv[m.conversationID], m)
	}
	for _, thread := range byConv {
		// Oldest first, so each quote already contains its own history.
		slices.SortStableFunc(thread, func(a, b *message) int { return a.sent.Compare(b.sent) })
		for i, m := range thread {
			if i == 0 || !m.body.html || !isReplySubject(m.subject) {
				continue
			}
			m.body = content{html: true, text: m.unique.text + outlookQuote(thread[i-1])}
			m.finish()
		}
	}
}

func isReplySubject(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "fw:") || strings.HasPrefix(l, "fwd:")
}

func (b *mailbox) folder(ref string) *folder {
	for _, f := range b.folders {
		if f.id == ref || (f.wellKnown != "" && strings.EqualFold(f.wellKnown, ref)) {
			return f
		}
	}
	return nil
}

func (b *mailbox) defaultCalendar() *calendar {
	for _, c := range b.calendars {
		if c.isDefault {
			return c
		}
	}
	return nil
}

func (b *mailbox) event(id string) *event {
	for _, e := range b.events {
		if e.id == id {
			return e
		}
	}
	return nil
}
