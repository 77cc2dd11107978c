package tools

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// One event: read it, create, change or cancel it, answer an invitation.

type graphAttendee struct {
	EmailAddress graphEmail `json:"emailAddress"`
	Type         string     `json:"type"`
	Status       struct {
		Response string `json:"response"`
	} `json:"status"`
}

type graphRecurrence struct {
	Pattern struct {
		Type       string   `json:"type"`
		Interval   int      `json:"interval"`
		DaysOfWeek []string `json:"daysOfWeek"`
		DayOfMonth int      `json:"dayOfMonth"`
		Index      string   `json:"index"`
	} `json:"pattern"`
	Range struct {
		Type                string `json:"type"`
		StartDate           string `json:"startDate"`
		EndDate             string `json:"endDate"`
		NumberOfOccurrences int    `json:"numberOfOccurrences"`
	} `json:"range"`
}

// graphEventDetail is one event in full.
type graphEventDetail struct {
	graphEvent
	Body struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Attendees  []graphAttendee  `json:"attendees"`
	Recurrence *graphRecurrence `json:"recurrence"`
}

const eventDetailFields = eventFields + ",body,attendees,recurrence"

type Attendee struct {
	Name     string `json:"name,omitempty"`
	Address  string `json:"address"`
	Type     string `json:"type"`
	Response string `json:"response"`
}

// EventDetail is one event in full.
type EventDetail struct {
	Event
	TimeZone   string     `json:"time_zone"`
	MyResponse string     `json:"my_response"`
	Attendees  []Attendee `json:"attendees"`
	Recurrence string     `json:"recurrence,omitempty"`
	// AttendeeCount is how many attendees the event has, of whom
	// Attendees lists the first (at most maxAttendees) and Responses
	// counts each answer.
	AttendeeCount int            `json:"attendee_count"`
	Responses     map[string]int `json:"responses,omitempty"`
	Body          string         `json:"body,omitempty"`
	Paging
}

// maxAttendees is the most attendees get_event lists: beyond them, a
// meeting's attendees are counted by response.
const maxAttendees = 40

func (e graphEventDetail) detail(loc *time.Location, zone string) EventDetail {
	ev := e.event(loc)
	d := EventDetail{
		Event: ev, TimeZone: zone, MyResponse: ev.MyResponse, Attendees: []Attendee{},
		Recurrence: e.Recurrence.summary(), AttendeeCount: len(e.Attendees),
	}
	for i, a := range e.Attendees {
		if len(e.Attendees) > maxAttendees {
			if d.Responses == nil {
				d.Responses = map[string]int{}
			}
			d.Responses[a.Status.Response]++
		}
		if i < maxAttendees {
			d.Attendees = append(d.Attendees, Attendee{Name: a.EmailAddress.Name, Address: a.EmailAddress.Address, Type: a.Type, Response: a.Status.Response})
		}
	}
	return d
}

// shrink gives up the end of the description's page, then attendees
// (still counted in attendee_count and responses).
func (d *EventDetail) shrink() bool {
	if d.shrinkPage(&d.Body) {
		return true
	}
	if len(d.Attendees) <= 1 {
		return false
	}
	if d.Responses == nil {
		d.Responses = map[string]int{}
		for _, a := range d.Attendees {
			d.Responses[a.Response]++
		}
	}
	d.Attendees = d.Attendees[:len(d.Attendees)/2]
	return true
}

// summary says how a series repeats: "weekly on monday, friday, from
// 2026-11-02, until 2026-12-31".
func (r *graphRecurrence) summary() string {
	if r == nil {
		return ""
	}
	p := r.Pattern
	every := map[string]string{"daily": "day", "weekly": "week", "absoluteMonthly": "month", "relativeMonthly": "month", "absoluteYearly": "year", "relativeYearly": "year"}[p.Type]
	s := "every " + every
	if p.Interval > 1 {
		s = fmt.Sprintf("every %d %ss", p.Interval, every)
	}
	switch {
	case every == "":
		s = p.Type
	case p.Type == "absoluteMonthly":
		s += fmt.Sprintf(" on day %d", p.DayOfMonth)
	case len(p.DaysOfWeek) > 0 && p.Type != "daily":
		on := strings.Join(p.DaysOfWeek, ", ")
		if strings.HasPrefix(p.Type, "relative") {
			on = p.Index + " " + on
		}
		s += " on " + on
	}
	s += ", from " + r.Range.StartDate
	switch r.Range.Type {
	case "endDate":
		s += ", until " + r.Range.EndDate
	case "numbered":
		s += fmt.Sprintf(", %d times", r.Range.NumberOfOccurrences)
	}
	return s
}

// Text keeps times, responses and ids outside the fences, and fences
// what others wrote: subject, place, names, then the description apart.
func (d *EventDetail) Text() string {
	var b, head strings.Builder
	times := listTimes{year: -1} // with the year
	b.WriteString("When: " + times.span(d.Start, d.End, d.IsAllDay) + " (" + d.TimeZone + ")")
	if d.IsCancelled {
		b.WriteString(" [cancelled]")
	}
	if d.JoinURL != "" {
		b.WriteString("\nJoin: " + d.JoinURL)
	}
	if d.MyResponse == "organizer" {
		b.WriteString("\nOrganizer: you")
	} else {
		b.WriteString("\nYour response: " + d.MyResponse)
	}
	if d.Recurrence != "" {
		b.WriteString("\nRepeats " + d.Recurrence)
	}
	if d.SeriesID != "" {
		b.WriteString("\nOne occurrence of a series; series_id: " + d.SeriesID)
	}
	b.WriteString("\nid: " + d.ID)
	head.WriteString("Subject: " + orNone(d.Subject))
	if d.Location != "" {
		head.WriteString("\nWhere: " + d.Location)
	}
	if d.MyResponse != "organizer" {
		head.WriteString("\nOrganizer: " + d.Organizer.String())
	}
	if len(d.Attendees) > 0 {
		parts := make([]string, len(d.Attendees))
		for i, a := range d.Attendees {
			parts[i] = fmt.Sprintf("%s (%s, %s)", Person{Name: a.Name, Address: a.Address}, a.Type, a.Response)
		}
		fmt.Fprintf(&head, "\nAttendees: %s", strings.Join(parts, "; "))
	}
	if len(d.Attendees) < d.AttendeeCount {
		counts := make([]string, 0, len(d.Responses))
		for _, r := range slices.Sorted(maps.Keys(d.Responses)) {
			counts = append(counts, fmt.Sprintf("%d %s", d.Responses[r], r))
		}
		fmt.Fprintf(&b, "\n%d attendees in all, the first %d listed; responses: %s", d.AttendeeCount, len(d.Attendees), strings.Join(counts, ", "))
	}
	b.WriteString("\n" + untrusted(head.String()))
	if d.Body != "" {
		b.WriteString("\n" + untrusted(d.Body))
	}
	b.WriteString(d.readOn())
	return b.String()
}

// eventPath is an event's Graph path, the id escaped.
func eventPath(id string) (string, error) {
	id, err := itemID("event_id", "an event id", id)
	if err != nil {
		return "", err
	}
	return "/me/events/" + url.PathEscape(id), nil
}

// calendarPath is the path of the calendar calendar_id names under which
// collection (events, calendarView) lies: the user's main calendar when
// it is blank.
func calendarPath(calendarID, collection string) (string, error) {
	if strings.TrimSpace(calendarID) == "" {
		return "/me/" + collection, nil
	}
	id, err := itemID("calendar_id", "a calendar id", calendarID)
	if err != nil {
		return "", err
	}
	return "/me/calendars/" + url.PathEscape(id) + "/" + collection, nil
}

// ---- get_event ----

type GetEventArgs struct {
	EventID  string `json:"event_id" handle:"e"`
	TimeZone string `json:"time_zone,omitempty" jsonschema_description:"IANA zone for the returned times. Default UTC."`
	PageArgs
}

var getEvent = define("get_event", "Read an event",
	"Read one calendar event in full: times, location, Teams join URL, organizer, attendees with their responses, your response, how it repeats, and the description as text.",
	[]string{"Calendars.Read", "Calendars.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in GetEventArgs) (*EventDetail, error) {
		zone, loc, err := timeZoneArg(in.TimeZone)
		if err != nil {
			return nil, err
		}
		path, err := eventPath(in.EventID)
		if err != nil {
			return nil, err
		}
		maxChars, err := c.pageArgs(in.MaxChars, in.Offset, defaultPageChars)
		if err != nil {
			return nil, err
		}
		var e graphEventDetail
		if err := get(ctx, c, path, "", url.Values{"$select": {eventDetailFields}}, eventHeader(zone), &e); err != nil {
			return nil, err
		}
		d := e.detail(loc, zone)
		if d.Body, err = d.page(bodyText(e.Body.ContentType, e.Body.Content), in.Offset, maxChars, false); err != nil {
			return nil, err
		}
		return &d, nil
	})

// ---- create_event and update_event ----

type AttendeeArg struct {
	Address string `json:"address"`
	Type    string `json:"type,omitempty" jsonschema:"enum=required,enum=optional,default=required"`
}

// EventFields are the optional fields of create_event, every one of which
// update_event can change.
type EventFields struct {
	TimeZone        string        `json:"time_zone,omitempty" jsonschema_description:"IANA zone (Europe/Berlin) of the times; default UTC."`
	Attendees       []AttendeeArg `max:"500" json:"attendees,omitempty"`
	Location        string        `json:"location,omitempty"`
	Body            string        `max:"1048576" json:"body,omitempty"`
	IsOnlineMeeting *bool         `json:"is_online_meeting,omitempty" jsonschema_description:"Add a Teams meeting (join URL)."`
	IsAllDay        *bool         `json:"is_all_day,omitempty" jsonschema_description:"start and end are dates; end is the last day."`
	ReminderMinutes *int          `json:"reminder_minutes,omitempty" jsonschema:"minimum=0"`
}

type CreateEventArgs struct {
	Subject string `json:"subject"`
	Start   string `json:"start" jsonschema_description:"2026-11-25T10:00 (in time_zone) or RFC 3339; a date for all-day."`
	End     string `json:"end"`
	EventFields
	CalendarID string `json:"calendar_id,omitempty" handle:"k"`
}

type UpdateEventArgs struct {
	EventID string `json:"event_id" handle:"e"`
	Subject string `json:"subject,omitempty"`
	Start   string `json:"start,omitempty" jsonschema_description:"2026-11-25T10:00 (in time_zone) or RFC 3339; a date for all-day."`
	End     string `json:"end,omitempty"`
	EventFields
}

// SavedEvent is what a write did: the event as it now is, in short
// (get_event has the rest), and who Outlook tells.
type SavedEvent struct {
	Status    string   `json:"status"`
	ID        string   `json:"id" handle:"e"`
	Subject   string   `json:"subject"`
	Start     string   `json:"start"`
	End       string   `json:"end"`
	JoinURL   string   `json:"join_url,omitempty"`
	Attendees []string `json:"attendees,omitempty"`
	Notified  bool     `json:"notified"`
	Note      string   `json:"note,omitempty"`
}

// eventChange is Graph's event properties for the given arguments: only
// those given (an update), in time_zone.
func eventChange(subject, start, end string, f EventFields) (map[string]any, string, *time.Location, error) {
	zone, loc, err := timeZoneArg(f.TimeZone)
	if err != nil {
		return nil, "", nil, err
	}
	body := map[string]any{}
	if strings.TrimSpace(subject) != "" {
		body["subject"] = subject
	}
	from, to, allDay, err := eventTimes(start, end, f.IsAllDay, loc)
	if err != nil {
		return nil, "", nil, err
	}
	if !from.IsZero() {
		body["start"] = graphDateTime(from, loc, zone)
	}
	if !to.IsZero() {
		body["end"] = graphDateTime(to, loc, zone)
	}
	if f.IsAllDay != nil || allDay {
		body["isAllDay"] = allDay
	}
	if f.Attendees != nil {
		list := []map[string]any{}
		for _, a := range f.Attendees {
			addr, err := parseRecipient("attendees", a.Address)
			if err != nil {
				return nil, "", nil, err
			}
			typ := a.Type
			switch typ {
			case "":
				typ = "required"
			case "required", "optional":
			default:
				return nil, "", nil, argError("attendees", "type must be required or optional, not %q", a.Type)
			}
			list = append(list, map[string]any{"emailAddress": graphEmail{Name: addr.Name, Address: addr.Address}, "type": typ})
		}
		body["attendees"] = list
	}
	if f.Location != "" {
		body["location"] = map[string]string{"displayName": f.Location}
	}
	if f.Body != "" {
		body["body"] = map[string]string{"contentType": "Text", "content": f.Body}
	}
	if f.IsOnlineMeeting != nil {
		body["isOnlineMeeting"] = *f.IsOnlineMeeting
		if *f.IsOnlineMeeting {
			body["onlineMeetingProvider"] = "teamsForBusiness"
		}
	}
	if f.ReminderMinutes != nil {
		if *f.ReminderMinutes < 0 {
			return nil, "", nil, argError("reminder_minutes", "must be 0 or more, not %d", *f.ReminderMinutes)
		}
		body["isReminderOn"] = true
		body["reminderMinutesBeforeStart"] = *f.ReminderMinutes
	}
	return body, zone, loc, nil
}

// eventTimes reads start and end, either of which an update may leave
// out (zero). An all-day event runs from midnight to midnight: its end
// date is its last day, so Graph's end is the midnight after. Dates alone
// make an all-day event unless is_all_day is false.
func eventTimes(start, end string, isAllDay *bool, loc *time.Location) (from, to time.Time, allDay bool, err error) {
	type value struct {
		arg, s string
		t      *time.Time
		date   bool
	}
	values := []*value{{arg: "start", s: start, t: &from}, {arg: "end", s: end, t: &to}}
	given, dates := 0, 0
	for _, v := range values {
		if strings.TrimSpace(v.s) == "" {
			continue
		}
		if *v.t, v.date, err = parseTime(v.arg, v.s, loc); err != nil {
			return
		}
		given++
		if v.date {
			dates++
		}
	}
	allDay = isAllDay != nil && *isAllDay || isAllDay == nil && given > 0 && dates == given
	for _, v := range values {
		switch {
		case v.t.IsZero():
		case allDay && !v.date:
			return from, to, allDay, argError(v.arg, "must be a date (2026-12-01) for an all-day event")
		case !allDay && v.date:
			return from, to, allDay, argError(v.arg, "%q is a date: give a time (2026-11-25T10:00), or make the event all-day", v.s)
		}
	}
	if allDay && !to.IsZero() {
		to = to.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		err = argError("end", "must be after start")
	}
	return
}

// saveEvent sends an event write and reads back the event as it now is.
func saveEvent(ctx context.Context, c *Call, r nango.Request, zone string, loc *time.Location, status string) (*SavedEvent, error) {
	r.Header = eventHeader(zone)
	var e graphEventDetail
	if err := c.Conn.Do(ctx, r, &e); err != nil {
		return nil, err
	}
	ev := e.event(loc)
	out := &SavedEvent{Status: status, ID: ev.ID, Subject: ev.Subject, Start: ev.Start, End: ev.End, JoinURL: ev.JoinURL,
		Notified: e.IsOrganizer && len(e.Attendees) > 0}
	for _, a := range e.Attendees {
		out.Attendees = append(out.Attendees, Person{Name: a.EmailAddress.Name, Address: a.EmailAddress.Address}.String())
	}
	change := r.Body.(map[string]any)
	if online, _ := change["isOnlineMeeting"].(bool); online && out.JoinURL == "" {
		out.Note = "Outlook made no Teams meeting: personal Microsoft accounts cannot create them."
	}
	if !e.IsOrganizer {
		out.Note = strings.TrimSpace("Only your copy changed: you do not organize this meeting. " + out.Note)
	}
	return out, nil
}

var createEvent = define("create_event", "Create an event",
	"Create a calendar event. Outlook emails the attendees an invitation at once: confirm the details with the user first. Returns its id and Teams join URL.",
	[]string{"Calendars.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true},
	func(ctx context.Context, c *Call, in CreateEventArgs) (*SavedEvent, error) {
		if strings.TrimSpace(in.Subject) == "" {
			return nil, argError("subject", "is required")
		}
		body, zone, loc, err := eventChange(in.Subject, in.Start, in.End, in.EventFields)
		if err != nil {
			return nil, err
		}
		path, err := calendarPath(in.CalendarID, "events")
		if err != nil {
			return nil, err
		}
		// Not idempotent: a retry after a 5xx could create it twice.
		return saveEvent(ctx, c, nango.Request{Method: http.MethodPost, Path: path, Body: body}, zone, loc, "created")
	})

var updateEvent = define("update_event", "Update an event",
	"Change an event: only the fields given. attendees replaces the whole list. When the user organizes a meeting, Outlook sends the attendees the update. Returns the event as it now is.",
	[]string{"Calendars.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in UpdateEventArgs) (*SavedEvent, error) {
		path, err := eventPath(in.EventID)
		if err != nil {
			return nil, err
		}
		body, zone, loc, err := eventChange(in.Subject, in.Start, in.End, in.EventFields)
		if err != nil {
			return nil, err
		}
		if len(body) == 0 {
			return nil, &inputError{msg: "update_event needs at least one field to change (subject, start, end, attendees, location, body, is_online_meeting, is_all_day, reminder_minutes)"}
		}
		return saveEvent(ctx, c, nango.Request{Method: http.MethodPatch, Path: path, Body: body, Idempotent: true}, zone, loc, "updated")
	})

func (r *SavedEvent) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q, %s – %s.", map[string]string{"created": "Created", "updated": "Updated"}[r.Status], r.Subject, r.Start, r.End)
	if r.Notified {
		verb := map[string]string{"created": "Invitations go", "updated": "The update goes"}[r.Status]
		fmt.Fprintf(&b, " %s to: %s.", verb, strings.Join(r.Attendees, ", "))
	}
	if r.JoinURL != "" {
		b.WriteString("\nJoin: " + r.JoinURL)
	}
	if r.Note != "" {
		b.WriteString("\nNote: " + r.Note)
	}
	return b.String() + "\nid: " + r.ID
}

// ---- cancel_event ----

type CancelEventArgs struct {
	EventID string `json:"event_id" handle:"e"`
	Comment string `max:"100000" json:"comment,omitempty" jsonschema_description:"Message sent to the attendees with the cancellation."`
}

type CancelEventResult struct {
	EventID  string   `json:"event_id" handle:"e"`
	Subject  string   `json:"subject"`
	Start    string   `json:"start"`
	Notified []string `json:"notified" jsonschema_description:"Attendees sent the cancellation."`
}

var cancelEvent = define("cancel_event", "Cancel an event",
	"Cancel an event you organize: it leaves your calendar and every attendee is emailed the cancellation (with comment). Cannot be undone: confirm with the user. For a meeting someone else organizes, use respond_to_event with decline.",
	[]string{"Calendars.ReadWrite"},
	Hints{ReadOnly: false, Destructive: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in CancelEventArgs) (*CancelEventResult, error) {
		path, err := eventPath(in.EventID)
		if err != nil {
			return nil, err
		}
		var e graphEventDetail
		err = get(ctx, c, path, "", url.Values{"$select": {"id,subject,start,end,isAllDay,organizer,isOrganizer,attendees"}}, eventHeader("UTC"), &e)
		if err != nil {
			return nil, err
		}
		if !e.IsOrganizer {
			organizer := "someone else"
			if e.Organizer != nil {
				organizer = e.Organizer.person().String()
			}
			return nil, argError("event_id", "%q is organized by %s, so only they can cancel it. To drop out of it, call respond_to_event with response decline (and a comment).", e.Subject, organizer)
		}
		// Not retried on a 5xx: the cancellation may already be out.
		err = c.Conn.Do(ctx, nango.Request{Method: http.MethodPost, Path: path + "/cancel", Body: map[string]string{"comment": in.Comment}}, nil)
		if err != nil {
			return nil, err
		}
		out := &CancelEventResult{EventID: e.ID, Subject: e.Subject, Start: eventTime(e.Start, time.UTC, e.IsAllDay), Notified: []string{}}
		for _, a := range e.Attendees {
			if a.Type != "resource" {
				out.Notified = append(out.Notified, Person{Name: a.EmailAddress.Name, Address: a.EmailAddress.Address}.String())
			}
		}
		return out, nil
	})

func (r *CancelEventResult) Text() string {
	s := fmt.Sprintf("Cancelled %q (%s); it is off your calendar.", r.Subject, r.Start)
	if len(r.Notified) == 0 {
		return s + " It had no attendees to notify."
	}
	return s + " Cancellation sent to: " + strings.Join(r.Notified, ", ") + "."
}

// ---- respond_to_event ----

type RespondToEventArgs struct {
	EventID      string `json:"event_id" handle:"e"`
	Response     string `json:"response" jsonschema:"enum=accept,enum=tentative,enum=decline"`
	Comment      string `max:"100000" json:"comment,omitempty"`
	SendResponse *bool  `json:"send_response,omitempty" jsonschema_description:"Email the organizer the answer. Default true."`
}

type RespondToEventResult struct {
	EventID      string `json:"event_id" handle:"e"`
	Response     string `json:"response"`
	SentResponse bool   `json:"sent_response"`
}

var respondToEvent = define("respond_to_event", "Respond to an invitation",
	"Answer a meeting invitation: accept, tentative or decline, with an optional comment to the organizer. A declined meeting leaves your calendar. Use an occurrence's id to answer only that one.",
	[]string{"Calendars.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in RespondToEventArgs) (*RespondToEventResult, error) {
		path, err := eventPath(in.EventID)
		if err != nil {
			return nil, err
		}
		action, ok := map[string]string{"accept": "accept", "tentative": "tentativelyAccept", "decline": "decline"}[in.Response]
		if !ok {
			return nil, argError("response", "must be accept, tentative or decline, not %q", in.Response)
		}
		out := &RespondToEventResult{EventID: strings.TrimSpace(in.EventID), Response: in.Response, SentResponse: in.SendResponse == nil || *in.SendResponse}
		err = c.Conn.Do(ctx, nango.Request{
			Method: http.MethodPost, Path: path + "/" + action,
			Body: map[string]any{"comment": in.Comment, "sendResponse": out.SentResponse},
		}, nil)
		if err != nil {
			return nil, err
		}
		return out, nil
	})

func (r *RespondToEventResult) Text() string {
	s := map[string]string{"accept": "Accepted", "tentative": "Tentatively accepted", "decline": "Declined"}[r.Response] + " the meeting"
	if r.Response == "decline" {
		s += "; Outlook takes it off your calendar"
	}
	if r.SentResponse {
		return s + ". The organizer was sent your answer."
	}
	return s + ". No answer was sent to the organizer."
}
