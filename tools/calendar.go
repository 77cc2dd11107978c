package tools

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ---- list_events ----

type ListEventsArgs struct {
	Start      string `json:"start" jsonschema_description:"Window start: RFC 3339 time or a date (midnight in time_zone)."`
	End        string `json:"end" jsonschema_description:"Window end: RFC 3339 time or a date (that whole day is included)."`
	TimeZone   string `json:"time_zone,omitempty" jsonschema_description:"IANA zone (Europe/Berlin) or the mailbox's zone name, for dates and the returned times. Default: the user's mailbox zone."`
	CalendarID string `json:"calendar_id,omitempty" handle:"k" jsonschema_description:"Default: the user's main calendar."`
	Limit      int    `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100,default=25"`
	Cursor     string `max:"4096" json:"cursor,omitempty" jsonschema_description:"next_cursor of the previous page, with the same arguments."`
}

type Event struct {
	ID              string `json:"id" handle:"e"`
	Subject         string `json:"subject"`
	Start           string `json:"start"`
	End             string `json:"end"`
	IsAllDay        bool   `json:"is_all_day,omitempty"`
	Location        string `json:"location,omitempty"`
	Organizer       Person `json:"organizer"`
	IsOnlineMeeting bool   `json:"is_online_meeting"`
	JoinURL         string `json:"join_url,omitempty"`
	ShowAs          string `json:"show_as,omitempty"`
	MyResponse      string `json:"my_response,omitempty"`
	IsCancelled     bool   `json:"is_cancelled,omitempty"`
	SeriesID        string `json:"series_id,omitempty" handle:"e" jsonschema_description:"The series an occurrence belongs to."`
}

type ListEventsResult struct {
	TimeZone   string  `json:"time_zone"`
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`

	stop     listStop
	zoneNote string // why the times are UTC when the user's zone is unknown
}

type graphTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

type graphEvent struct {
	ID              string `json:"id"`
	Subject         string `json:"subject"`
	Start           graphTime
	End             graphTime
	IsAllDay        bool                         `json:"isAllDay"`
	Location        struct{ DisplayName string } `json:"location"`
	Organizer       *graphRecipient              `json:"organizer"`
	IsOnlineMeeting bool                         `json:"isOnlineMeeting"`
	OnlineMeeting   *struct {
		JoinURL string `json:"joinUrl"`
	} `json:"onlineMeeting"`
	ShowAs         string                    `json:"showAs"`
	IsCancelled    bool                      `json:"isCancelled"`
	SeriesMasterID string                    `json:"seriesMasterId"`
	ResponseStatus struct{ Response string } `json:"responseStatus"`
	IsOrganizer    bool                      `json:"isOrganizer"`
}

var listEvents = define("list_events", "List calendar events",
	"List calendar events between start and end, recurring meetings expanded into occurrences, in start order. Returns subject, times (in time_zone), location (Teams for an online meeting: get_event has its join URL) and organizer per event.",
	[]string{"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in ListEventsArgs) (*ListEventsResult, error) {
		in, cur, err := listing("list_events", in, in.Cursor)
		if err != nil {
			return nil, err
		}
		limit, err := checkLimit(in.Limit, 25, 100)
		if err != nil {
			return nil, err
		}
		path, err := calendarPath(in.CalendarID, "calendarView")
		if err != nil {
			return nil, err
		}
		zone, loc, err := timeZoneArg(in.TimeZone)
		if err != nil {
			return nil, err
		}
		for _, arg := range [][2]string{{"start", in.Start}, {"end", in.End}} {
			if _, _, err := parseTime(arg[0], arg[1], loc); err != nil {
				return nil, err // refused before anything is asked of Graph
			}
		}
		// The user's own zone by default, as mail times are: a date then
		// means the user's day. Remembered per connection (userzone.go).
		var zoneNote string
		if strings.TrimSpace(in.TimeZone) == "" {
			if user := userZoneOf(ctx, c)(); user.loc != nil {
				zone, loc, zoneNote = user.name, user.loc, user.note
			}
		}
		start, _, err := parseTime("start", in.Start, loc)
		if err != nil {
			return nil, err
		}
		end, endDateOnly, err := parseTime("end", in.End, loc)
		if err != nil {
			return nil, err
		}
		if endDateOnly {
			end = end.AddDate(0, 0, 1)
		}
		if !end.After(start) {
			return nil, argError("end", "must be after start")
		}
		var res graphPage[graphEvent]
		query := url.Values{
			"startDateTime": {start.Format(time.RFC3339)},
			"endDateTime":   {end.Format(time.RFC3339)},
			"$select":       {eventFields},
			"$orderby":      {"start/dateTime"},
			"$top":          {strconv.Itoa(limit)},
		}
		err = get(ctx, c, path, cur.link(path, query), query, eventHeader(zone), &res)
		if err != nil {
			return nil, err
		}
		out := &ListEventsResult{TimeZone: zone, Events: []Event{}, NextCursor: newCursor("list_events", in, path, query, res.NextLink),
			stop: cur.stopper("list_events", in), zoneNote: zoneNote}
		for i, e := range unseen(cur, res.Value) {
			ev := e.event(loc)
			if ev.JoinURL != "" { // about 110 tokens an occurrence, in structuredContent too: get_event has it
				ev.IsOnlineMeeting, ev.JoinURL = true, ""
			}
			out.Events = append(out.Events, ev)
			out.stop.raw = append(out.stop.raw, i)
		}
		return out, nil
	})

func (r *ListEventsResult) shrink() bool { return stopEarly(&r.Events, r.stop, &r.NextCursor) }

// eventFields are the properties an Event shows.
const eventFields = "id,subject,start,end,isAllDay,location,organizer,isOnlineMeeting,onlineMeeting,showAs,isCancelled,seriesMasterId,responseStatus,isOrganizer"

// timeZoneArg resolves a time_zone argument: an IANA name or the Windows
// name get_mailbox_settings reports; default UTC.
func timeZoneArg(name string) (string, *time.Location, error) {
	zone := strings.TrimSpace(name)
	if zone == "" {
		zone = "UTC"
	}
	loc, ok := location(zone)
	if !ok {
		return "", nil, argError("time_zone", "%q is not a time zone name (IANA, e.g. Europe/Berlin, America/New_York, UTC)", name)
	}
	return zone, loc, nil
}

// eventHeader asks for immutable event ids and times in zone (and, for
// one event in full, its body as text).
func eventHeader(zone string) http.Header {
	return http.Header{"Prefer": {preferImmutableID + fmt.Sprintf(", outlook.timezone=%q", zone)}}
}

// graphDateTime is Graph's dateTimeTimeZone for t: the wall clock in
// zone (loc) and the zone's name.
func graphDateTime(t time.Time, loc *time.Location, zone string) graphTime {
	return graphTime{DateTime: t.In(loc).Format("2006-01-02T15:04:05"), TimeZone: zone}
}

// event is the Event a listing shows, times in loc.
func (e graphEvent) event(loc *time.Location) Event {
	ev := Event{
		ID: e.ID, Subject: e.Subject, Start: eventTime(e.Start, loc, e.IsAllDay), End: eventTime(e.End, loc, e.IsAllDay),
		IsAllDay: e.IsAllDay, Location: e.Location.DisplayName, IsOnlineMeeting: e.IsOnlineMeeting,
		ShowAs: e.ShowAs, MyResponse: e.ResponseStatus.Response, IsCancelled: e.IsCancelled, SeriesID: e.SeriesMasterID,
	}
	if e.IsOrganizer {
		ev.MyResponse = "organizer"
	}
	if e.Organizer != nil {
		ev.Organizer = e.Organizer.person()
	}
	if e.OnlineMeeting != nil {
		ev.JoinURL = e.OnlineMeeting.JoinURL
	}
	return ev
}

// eventTime turns Graph's wall clock + zone name into RFC 3339 with the
// offset of the zone we asked for (a date alone for all-day events).
func eventTime(t graphTime, loc *time.Location, allDay bool) string {
	wall, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", t.DateTime, loc)
	if err != nil {
		return t.DateTime
	}
	if allDay {
		return wall.Format(time.DateOnly)
	}
	return wall.Format(time.RFC3339)
}

// Text is one line per event, the list fenced as one block (subjects,
// locations and organizers are written by others). It names a Teams
// meeting rather than repeating its join URL (get_event has it), and an
// occurrence of a series already shown says so instead of repeating its
// details.
func (r *ListEventsResult) Text() string {
	if len(r.Events) == 0 {
		return "No events in this window (" + r.TimeZone + ")." + noteLine(r.zoneNote)
	}
	var list strings.Builder
	var times listTimes
	shown := map[string]Event{} // series id → its first occurrence here
	for i, e := range r.Events {
		if i > 0 {
			list.WriteByte('\n')
		}
		fmt.Fprintf(&list, "%d. %s %s", i+1, times.span(e.Start, e.End, e.IsAllDay), orNone(e.Subject))
		list.WriteString(e.status())
		if first, ok := shown[e.SeriesID]; ok && e.SeriesID != "" && e.sameDetails(first) {
			list.WriteString(" (series as above)")
		} else {
			if e.SeriesID != "" && !ok {
				shown[e.SeriesID] = e
			}
			list.WriteString(e.where())
			if who := e.Organizer.short(); who != "" {
				list.WriteString("; " + who)
			}
		}
		list.WriteString(", id " + e.ID)
	}
	text := fmt.Sprintf("%d events (%s):\n%s", len(r.Events), r.TimeZone, untrusted(list.String())) + noteLine(r.zoneNote)
	if r.NextCursor != "" {
		text += "\nMore: call again with cursor=" + r.NextCursor
	}
	return text
}

// showAsLabels name how an event shows the user's time when not busy.
var showAsLabels = map[string]string{"free": "free", "tentative": "tentative", "oof": "oof", "workingElsewhere": "elsewhere"}

// responseLabels name the user's answer to an invitation when not accepted.
var responseLabels = map[string]string{"none": "not answered", "notResponded": "not answered", "declined": "declined", "tentativelyAccepted": "tentatively accepted"}

// status is what a list line says of an event beyond its times: " [cancelled]",
// or how it shows the user's time when not busy and the user's answer
// when they were invited and have not accepted: " [oof]", " [tentative]
// [not answered]".
func (e Event) status() string {
	if e.IsCancelled {
		return " [cancelled]"
	}
	s := ""
	if l := showAsLabels[e.ShowAs]; l != "" {
		s += " [" + l + "]"
	}
	if l := responseLabels[e.MyResponse]; l != "" {
		if e.MyResponse == "tentativelyAccepted" {
			s = strings.TrimSuffix(s, " [tentative]") // "tentatively accepted" says it
		}
		s += " [" + l + "]"
	}
	return s
}

// where is " @ location", with "Teams" for an online meeting.
func (e Event) where() string {
	place := e.Location
	if e.IsOnlineMeeting || e.JoinURL != "" {
		switch {
		case place == "" || strings.EqualFold(place, "Microsoft Teams Meeting"):
			place = "Teams"
		case !strings.Contains(place, "Teams"):
			place += " + Teams"
		}
	}
	if place == "" {
		return ""
	}
	return " @ " + place
}

// sameDetails tells whether e shows what first showed, but its times.
func (e Event) sameDetails(first Event) bool {
	return e.Subject == first.Subject && e.where() == first.where() && e.Organizer == first.Organizer
}

// ---- list_calendars ----

type ListCalendarsArgs struct{}

type CalendarInfo struct {
	ID        string `json:"id" handle:"k"`
	Name      string `json:"name"`
	Color     string `json:"color,omitempty"`
	IsDefault bool   `json:"is_default"`
	CanEdit   bool   `json:"can_edit"`
	Owner     Person `json:"owner"`
}

type ListCalendarsResult struct {
	Calendars []CalendarInfo `json:"calendars"`
}

var listCalendars = define("list_calendars", "List calendars",
	"List the user's calendars (own and shared with them): id, name, color, whether it is the default and whether the user can add events. Pass an id as calendar_id to list_events or create_event.",
	[]string{"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, _ ListCalendarsArgs) (*ListCalendarsResult, error) {
		var res graphPage[struct {
			ID                string     `json:"id"`
			Name              string     `json:"name"`
			Color             string     `json:"color"`
			IsDefaultCalendar bool       `json:"isDefaultCalendar"`
			CanEdit           bool       `json:"canEdit"`
			Owner             graphEmail `json:"owner"`
		}]
		query := url.Values{"$select": {"id,name,color,isDefaultCalendar,canEdit,owner"}, "$top": {"100"}}
		if err := get(ctx, c, "/me/calendars", "", query, nil, &res); err != nil {
			return nil, err
		}
		out := &ListCalendarsResult{Calendars: []CalendarInfo{}}
		for _, cal := range res.Value {
			out.Calendars = append(out.Calendars, CalendarInfo{
				ID: cal.ID, Name: cal.Name, Color: cal.Color, IsDefault: cal.IsDefaultCalendar, CanEdit: cal.CanEdit,
				Owner: Person{Name: cal.Owner.Name, Address: cal.Owner.Address},
			})
		}
		return out, nil
	})

// Text fences the names: a calendar shared with the user is named by its owner.
func (r *ListCalendarsResult) Text() string {
	var list strings.Builder
	for i, cal := range r.Calendars {
		if i > 0 {
			list.WriteByte('\n')
		}
		fmt.Fprintf(&list, "%d. %s", i+1, cal.Name)
		if cal.IsDefault {
			list.WriteString(" (default)")
		}
		if !cal.CanEdit {
			list.WriteString(" (read-only)")
		}
		if cal.Owner.Address != "" {
			list.WriteString("; owner " + cal.Owner.String())
		}
		list.WriteString(", id " + cal.ID)
	}
	return fmt.Sprintf("%d calendars:\n%s", len(r.Calendars), untrusted(list.String()))
}
