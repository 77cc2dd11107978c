package sim

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the sandbox must know IANA zones even where the OS does not
)

type calendar struct {
	id, name, color, hexColor string
	isDefault                 bool
}

type attendee struct {
	who      recipient
	typ      string // required, optional, resource
	response string // none, accepted, tentativelyAccepted, declined
	at       time.Time
}

type recurrence struct {
	typ       string // daily, weekly
	interval  int
	days      []time.Weekday
	rangeType string // noEnd, endDate, numbered
	endDate   time.Time
	count     int
}

type event struct {
	id, immID, calendarID, iCalUID, subject string
	body                                    content
	start, end                              time.Time // UTC; all-day events: midnights, the end exclusive
	allDay                                  bool
	location                                string
	organizer                               recipient
	attendees                               []attendee
	online                                  bool
	joinURL                                 string
	showAs, importance, sensitivity         string
	cancelled, isOrganizer                  bool
	response                                string // the owner's responseStatus
	categories                              []string
	recur                                   *recurrence
	created                                 time.Time
	changeKey, plain                        string
	reminder                                *int // reminderMinutesBeforeStart; nil = Outlook's default
	// exceptions are a series' occurrences changed on their own (moved,
	// answered, cancelled), by day (occurrenceDay).
	exceptions map[string]*event
	deleted    bool // an exception: the occurrence was cancelled or declined
}

// instance is an event as a listing shows it: a single instance, a series
// master, or one occurrence of a series.
type instance struct {
	ev         *event    // an occurrence: its exception, or the series
	series     *event    // an occurrence: its series master
	kind       string    // singleInstance, seriesMaster, occurrence
	day        time.Time // occurrence: its day
	start, end time.Time
}

// id is the instance's id in the requested form; an occurrence's derives
// from its master's and its day.
func (in instance) id(immutable bool) string {
	if in.kind == "occurrence" {
		return occurrenceID(pickID(immutable, in.series.id, in.series.immID), in.day)
	}
	return pickID(immutable, in.ev.id, in.ev.immID)
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func (b *mailbox) loadEvent(re rawEvent, c clock) (*event, error) {
	cal := b.defaultCalendar()
	if re.Calendar != "" {
		if cal = b.calendar(re.Calendar); cal == nil {
			return nil, fmt.Errorf("unknown calendar %q", re.Calendar)
		}
	}
	start, err := c.resolve(re.Start)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	var end time.Time
	switch {
	case re.End != "":
		if end, err = c.resolve(re.End); err != nil {
			return nil, fmt.Errorf("end: %w", err)
		}
	case re.Duration != "":
		d, err := time.ParseDuration(re.Duration)
		if err != nil {
			return nil, fmt.Errorf("duration: %w", err)
		}
		end = start.Add(d)
	case re.IsAllDay:
		end = start.AddDate(0, 0, 1)
	default:
		return nil, errors.New("needs an end or a duration")
	}
	if end.Before(start) || (re.IsAllDay && (!start.Equal(start.Truncate(24*time.Hour)) || !end.Equal(end.Truncate(24*time.Hour)))) {
		return nil, errors.New("bad start/end: all-day events run from midnight to midnight")
	}
	me := recipient{Name: b.me.DisplayName, Address: b.me.mailAddress()}
	e := &event{
		id: re.ID, calendarID: cal.id, iCalUID: re.ICalUID, subject: re.Subject,
		body:  content{html: true, text: strings.TrimSpace(re.Body)},
		start: start, end: end, allDay: re.IsAllDay, location: re.Location,
		organizer: me, online: re.IsOnlineMeeting,
		showAs:      cmp.Or(re.ShowAs, "busy"),
		importance:  cmp.Or(re.Importance, "normal"),
		sensitivity: cmp.Or(re.Sensitivity, "normal"),
		cancelled:   re.IsCancelled,
		categories:  re.Categories,
		response:    "organizer",
	}
	if re.Organizer != "" {
		e.organizer = parseAddress(re.Organizer)
	}
	e.isOrganizer = strings.EqualFold(e.organizer.Address, me.Address)
	h := hash64("event", re.ID)
	e.created = minTime(start, c.now).Add(-time.Duration(3+h%20)*24*time.Hour - time.Duration(h/32%600)*time.Minute)
	if !e.isOrganizer {
		e.response = "notResponded"
	}
	for _, ra := range re.Attendees {
		a := attendee{who: parseAddress(ra.EmailAddress), typ: cmp.Or(ra.Type, "required"), response: cmp.Or(ra.Response, "none")}
		if a.response != "none" {
			a.at = e.created.Add(time.Duration(1+hash64(re.ID, a.who.Address)%40) * time.Hour)
		}
		if strings.EqualFold(a.who.Address, me.Address) && !e.isOrganizer && a.response != "none" {
			e.response = a.response
		}
		e.attendees = append(e.attendees, a)
	}
	if re.Recurrence != nil {
		if e.recur, err = loadRecurrence(re.Recurrence, e, c); err != nil {
			return nil, fmt.Errorf("recurrence: %w", err)
		}
	}
	b.finishEvent(e)
	return e, nil
}

// finishEvent derives what an event's fields imply: ids, Teams link, text.
func (b *mailbox) finishEvent(e *event) {
	if e.iCalUID == "" {
		e.iCalUID = fmt.Sprintf("040000008200E00074C5B7101A82E00800000000%016X000000000000000010000000%016X", hash64("uid", e.id), hash64("uid2", e.id))
	}
	if e.online && e.joinURL == "" {
		e.joinURL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" +
			strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(derivedID("", "teams", e.id)[:36])), "=") +
			"%40thread.v2/0?context=%7b%22Tid%22%3a%22" + tenantID + "%22%2c%22Oid%22%3a%22" + b.me.ID + "%22%7d"
	}
	e.plain = e.body.plain()
	e.changeKey = derivedID("DwAAABYAAAC", "changekey", e.id, e.subject, e.start.String(), e.end.String(), e.response)[:40]
	if e.immID == "" {
		e.immID = immutableID(e.id)
	}
}

func loadRecurrence(rr *rawRecurrence, e *event, c clock) (*recurrence, error) {
	r := &recurrence{typ: rr.Type, interval: max(rr.Interval, 1), rangeType: cmp.Or(rr.Range, "noEnd"), count: rr.Occurrences}
	for _, d := range rr.DaysOfWeek {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q", d)
		}
		r.days = append(r.days, wd)
	}
	switch r.typ {
	case "daily":
	case "weekly":
		if len(r.days) == 0 {
			r.days = []time.Weekday{e.start.Weekday()}
		}
		// A series starts on its first occurrence.
		for !slices.Contains(r.days, e.start.Weekday()) {
			e.start, e.end = e.start.AddDate(0, 0, 1), e.end.AddDate(0, 0, 1)
		}
	default:
		return nil, fmt.Errorf("unsupported type %q (daily or weekly)", r.typ)
	}
	switch r.rangeType {
	case "noEnd":
	case "endDate":
		end, err := c.resolve(rr.EndDate)
		if err != nil {
			return nil, fmt.Errorf("endDate: %w", err)
		}
		r.endDate = end.Truncate(24 * time.Hour)
	case "numbered":
		if r.count <= 0 {
			return nil, errors.New("numbered range needs numberOfOccurrences")
		}
	default:
		return nil, fmt.Errorf("unsupported range %q", r.rangeType)
	}
	return r, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// matches reports whether a series has an occurrence on day (UTC midnight);
// first is the day of its first occurrence. Weeks start on Sunday.
func (r *recurrence) matches(first, day time.Time) bool {
	days := int(day.Sub(first).Hours()) / 24
	if r.typ == "daily" {
		return days%r.interval == 0
	}
	if !slices.Contains(r.days, day.Weekday()) {
		return false
	}
	week := func(d time.Time) time.Time { return d.AddDate(0, 0, -int(d.Weekday())) }
	return int(week(day).Sub(week(first)).Hours())/(24*7)%r.interval == 0
}

// span places an occurrence on day. All-day events float: they run from
// midnight to midnight in whatever zone the caller reads them in.
func (e *event) span(day time.Time, loc *time.Location) (time.Time, time.Time) {
	if e.allDay {
		s := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
		return s, s.AddDate(0, 0, int(e.end.Sub(e.start).Hours())/24)
	}
	s := day.Add(e.start.Sub(e.start.Truncate(24 * time.Hour)))
	return s, s.Add(e.end.Sub(e.start))
}

// instances lists what a calendar view shows of e between from and to:
// the event itself, or its occurrences when it is a series.
func (e *event) instances(from, to time.Time, loc *time.Location) []instance {
	overlaps := func(s, en time.Time) bool {
		if s.Equal(en) {
			return !s.Before(from) && s.Before(to)
		}
		return s.Before(to) && en.After(from)
	}
	first := e.start.Truncate(24 * time.Hour)
	if e.recur == nil {
		if s, en := e.span(first, loc); overlaps(s, en) {
			return []instance{{ev: e, kind: "singleInstance", start: s, end: en}}
		}
		return nil
	}
	var out []instance
	last := minTime(to.UTC().AddDate(0, 0, 1), first.AddDate(20, 0, 0))
	n := 0
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		if !e.recur.matches(first, day) {
			continue
		}
		n++
		if (e.recur.rangeType == "numbered" && n > e.recur.count) || (e.recur.rangeType == "endDate" && day.After(e.recur.endDate)) {
			break
		}
		if in, ok := e.occurrence(day, loc); ok && overlaps(in.start, in.end) {
			out = append(out, in)
		}
	}
	return out
}

// occurrence is the series' occurrence on day, as changed by its
// exception if it has one; false when it was cancelled or declined.
func (e *event) occurrence(day time.Time, loc *time.Location) (instance, bool) {
	in := instance{ev: e, series: e, kind: "occurrence", day: day}
	if x := e.exceptions[occurrenceDay(day)]; x != nil {
		if x.deleted {
			return in, false
		}
		in.ev = x
		in.start, in.end = x.span(x.start.Truncate(24*time.Hour), loc)
		return in, true
	}
	in.start, in.end = e.span(day, loc)
	return in, true
}

func occurrenceDay(day time.Time) string { return day.Format("20060102") }

// Occurrence ids are derived from the master's id and the day.
const occurrenceMark = "BEAAAA"

func occurrenceID(masterID string, day time.Time) string {
	return strings.TrimSuffix(masterID, "=") + occurrenceMark + base64.RawURLEncoding.EncodeToString([]byte(occurrenceDay(day))) + "="
}

// master is the listing form of an event: a single instance or a series master.
func (e *event) master(loc *time.Location) instance {
	s, en := e.span(e.start.Truncate(24*time.Hour), loc)
	kind := "singleInstance"
	if e.recur != nil {
		kind = "seriesMaster"
	}
	return instance{ev: e, kind: kind, start: s, end: en}
}

// findInstance resolves an event id in either form: a master, a single
// event or an occurrence.
func (b *mailbox) findInstance(id string, loc *time.Location) (instance, error) {
	if !validID(id) {
		return instance{}, errMalformedID
	}
	for _, e := range b.events {
		if id == e.id || id == e.immID {
			return e.master(loc), nil
		}
		if e.recur == nil {
			continue
		}
		for _, master := range []string{e.id, e.immID} {
			rest, ok := strings.CutPrefix(id, strings.TrimSuffix(master, "=")+occurrenceMark)
			if !ok {
				continue
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSuffix(rest, "="))
			if err != nil {
				continue
			}
			day, err := time.ParseInLocation("20060102", string(raw), time.UTC)
			if err != nil {
				continue
			}
			if x := e.exceptions[occurrenceDay(day)]; x != nil {
				// Exceptions exist only for real occurrences; a moved one
				// may lie outside its original day.
				if in, ok := e.occurrence(day, loc); ok {
					return in, nil
				}
				return instance{}, errNotFound
			}
			for _, in := range e.instances(day, day.AddDate(0, 0, 1), loc) {
				if in.day.Equal(day) {
					return in, nil
				}
			}
		}
	}
	return instance{}, errNotFound
}

func (b *mailbox) calendar(id string) *calendar {
	for _, c := range b.calendars {
		if c.id == id {
			return c
		}
	}
	return nil
}

// eventView is how events are rendered for one request.
type eventView struct {
	html      bool
	immutable bool
	loc       *time.Location
	zone      string // the zone name as requested
}

func (s *Sim) eventView(g *graphReq) (eventView, error) {
	v := eventView{html: g.bodyHTML(), immutable: g.immutableIDs(), loc: time.UTC, zone: "UTC"}
	if name, ok := g.prefs["outlook.timezone"]; ok {
		loc, err := resolveZone(name)
		if err != nil {
			return v, err
		}
		g.prefer("outlook.timezone")
		v.loc, v.zone = loc, name
	}
	return v, nil
}

// windowsZones maps common Windows time zone names to IANA ones.
var windowsZones = map[string]string{
	"utc":                            "UTC",
	"dateline standard time":         "Etc/GMT+12",
	"hawaiian standard time":         "Pacific/Honolulu",
	"alaskan standard time":          "America/Anchorage",
	"pacific standard time":          "America/Los_Angeles",
	"us mountain standard time":      "America/Phoenix",
	"mountain standard time":         "America/Denver",
	"central standard time":          "America/Chicago",
	"eastern standard time":          "America/New_York",
	"atlantic standard time":         "America/Halifax",
	"sa pacific standard time":       "America/Bogota",
	"e. south america standard time": "America/Sao_Paulo",
	"gmt standard time":              "Europe/London",
	"greenwich standard time":        "Atlantic/Reykjavik",
	"w. europe standard time":        "Europe/Berlin",
	"romance standard time":          "Europe/Paris",
	"central europe standard time":   "Europe/Budapest",
	"central european standard time": "Europe/Warsaw",
	"e. europe standard time":        "Europe/Chisinau",
	"fle standard time":              "Europe/Kiev",
	"gtb standard time":              "Europe/Bucharest",
	"israel standard time":           "Asia/Jerusalem",
	"south africa standard time":     "Africa/Johannesburg",
	"russian standard time":          "Europe/Moscow",
	"arabian standard time":          "Asia/Dubai",
	"india standard time":            "Asia/Kolkata",
	"se asia standard time":          "Asia/Bangkok",
	"china standard time":            "Asia/Shanghai",
	"singapore standard time":        "Asia/Singapore",
	"tokyo standard time":            "Asia/Tokyo",
	"korea standard time":            "Asia/Seoul",
	"aus eastern standard time":      "Australia/Sydney",
	"new zealand standard time":      "Pacific/Auckland",
}

// resolveZone accepts a Windows or an IANA time zone name, as Graph does.
func resolveZone(name string) (*time.Location, error) {
	iana, ok := windowsZones[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		iana = name
	}
	loc, err := time.LoadLocation(iana)
	if err != nil || name == "" || name == "Local" {
		return nil, gerr(400, "TimeZoneNotSupportedException", "A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", name)
	}
	return loc, nil
}

// graphDateTime is the wall-clock form of dateTimeTimeZone.
func graphDateTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.0000000") }

func iso7(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

var eventType = &entityType[instance]{
	entityInfo: entityInfo{
		name: "microsoft.graph.event",
		props: []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories", "transactionId",
			"originalStartTimeZone", "originalEndTimeZone", "iCalUId", "uid", "reminderMinutesBeforeStart", "isReminderOn",
			"hasAttachments", "subject", "bodyPreview", "importance", "sensitivity", "isAllDay", "isCancelled", "isOrganizer",
			"responseRequested", "seriesMasterId", "showAs", "type", "webLink", "onlineMeetingUrl", "isOnlineMeeting",
			"onlineMeetingProvider", "allowNewTimeProposals", "occurrenceId", "isDraft", "hideAttendees", "originalStart",
			"responseStatus", "body", "start", "end", "location", "locations", "recurrence", "attendees", "organizer", "onlineMeeting"},
		hidden:     []string{"originalStart", "uid"},
		keep:       []string{"@odata.etag", "id"},
		selectCode: "RequestBroker--ParseUri",
		filterCode: "ErrorInvalidUrlQueryFilter",
		funcs:      []string{"startswith", "contains"},
	},
	fields: map[string]field[instance]{
		"start/datetime":                 strField(func(in instance) string { return graphDateTime(in.start.UTC()) }),
		"end/datetime":                   strField(func(in instance) string { return graphDateTime(in.end.UTC()) }),
		"subject":                        strField(func(in instance) string { return in.ev.subject }),
		"showas":                         strField(func(in instance) string { return in.ev.showAs }),
		"importance":                     strField(func(in instance) string { return in.ev.importance }),
		"sensitivity":                    strField(func(in instance) string { return in.ev.sensitivity }),
		"type":                           strField(func(in instance) string { return in.kind }),
		"seriesmasterid":                 strField(func(in instance) string { return seriesMasterID(in, false) }),
		"organizer/emailaddress/address": strField(func(in instance) string { return in.ev.organizer.Address }),
		"organizer/emailaddress/name":    strField(func(in instance) string { return in.ev.organizer.Name }),
		"isallday":                       boolField(func(in instance) bool { return in.ev.allDay }),
		"iscancelled":                    boolField(func(in instance) bool { return in.ev.cancelled }),
		"isorganizer":                    boolField(func(in instance) bool { return in.ev.isOrganizer }),
		"isonlinemeeting":                boolField(func(in instance) bool { return in.ev.online }),
		"createddatetime":                timeField(func(in instance) time.Time { return in.ev.created }),
	},
	lambdas: map[string]lambda[instance]{
		"categories": {kinds: map[string]valueKind{"": kindString}, elems: func(in instance) []map[string]any {
			var out []map[string]any
			for _, c := range in.ev.categories {
				out = append(out, map[string]any{"": c})
			}
			return out
		}},
		"attendees": {kinds: map[string]valueKind{"emailaddress/address": kindString, "emailaddress/name": kindString, "type": kindString}, elems: func(in instance) []map[string]any {
			var out []map[string]any
			for _, a := range in.ev.attendees {
				out = append(out, map[string]any{"emailaddress/address": a.who.Address, "emailaddress/name": a.who.Name, "type": a.typ})
			}
			return out
		}},
	},
}

func seriesMasterID(in instance, immutable bool) string {
	if in.kind == "occurrence" {
		return pickID(immutable, in.series.id, in.series.immID)
	}
	return ""
}

func byStart(a, b instance) int {
	if c := a.start.Compare(b.start); c != 0 {
		return c
	}
	return strings.Compare(a.ev.id, b.ev.id)
}

func (s *Sim) eventJSON(in instance, v eventView) map[string]any {
	e := in.ev
	attendees := make([]any, 0, len(e.attendees))
	for _, a := range e.attendees {
		attendees = append(attendees, map[string]any{
			"type":         a.typ,
			"status":       map[string]any{"response": a.response, "time": responseTime(a.at)},
			"emailAddress": map[string]any{"name": a.who.Name, "address": a.who.Address},
		})
	}
	respAt := time.Time{}
	if e.response != "organizer" && e.response != "notResponded" {
		for _, a := range e.attendees {
			if strings.EqualFold(a.who.Address, s.box.me.mailAddress()) {
				respAt = a.at
			}
		}
	}
	provider, online := "unknown", any(nil)
	if e.online {
		provider, online = "teamsForBusiness", map[string]any{"joinUrl": e.joinURL}
	}
	reminder := 15
	if e.allDay {
		reminder = 1080
	}
	if e.reminder != nil {
		reminder = *e.reminder
	}
	o := map[string]any{
		"@odata.etag":                etag(e.changeKey),
		"id":                         in.id(v.immutable),
		"createdDateTime":            iso7(e.created),
		"lastModifiedDateTime":       iso7(e.created.Add(37 * time.Minute)),
		"changeKey":                  e.changeKey,
		"categories":                 strs(e.categories),
		"transactionId":              nil,
		"originalStartTimeZone":      "UTC",
		"originalEndTimeZone":        "UTC",
		"iCalUId":                    e.iCalUID,
		"uid":                        e.iCalUID,
		"reminderMinutesBeforeStart": reminder,
		"isReminderOn":               !e.cancelled,
		"hasAttachments":             false,
		"subject":                    e.subject,
		"bodyPreview":                preview(e.plain),
		"importance":                 e.importance,
		"sensitivity":                e.sensitivity,
		"isAllDay":                   e.allDay,
		"isCancelled":                e.cancelled,
		"isOrganizer":                e.isOrganizer,
		"responseRequested":          true,
		"seriesMasterId":             nullable(seriesMasterID(in, v.immutable)),
		"showAs":                     e.showAs,
		"type":                       in.kind,
		"webLink":                    "https://outlook.office365.com/owa/?itemid=" + url.QueryEscape(in.id(false)) + "&exvsurl=1&path=/calendar/item",
		"onlineMeetingUrl":           nil,
		"isOnlineMeeting":            e.online,
		"onlineMeetingProvider":      provider,
		"allowNewTimeProposals":      true,
		"occurrenceId":               nil,
		"isDraft":                    false,
		"hideAttendees":              false,
		"originalStart":              nil,
		"responseStatus":             map[string]any{"response": e.response, "time": responseTime(respAt)},
		"body":                       e.body.render(v.html),
		"start":                      map[string]any{"dateTime": graphDateTime(in.start.In(v.loc)), "timeZone": v.zone},
		"end":                        map[string]any{"dateTime": graphDateTime(in.end.In(v.loc)), "timeZone": v.zone},
		"location":                   locationJSON(e.location),
		"locations":                  []any{},
		"recurrence":                 nil,
		"attendees":                  attendees,
		"organizer":                  e.organizer.json(),
		"onlineMeeting":              online,
	}
	if e.location != "" {
		o["locations"] = []any{locationJSON(e.location)}
	}
	if in.kind == "occurrence" {
		o["originalStart"] = isoZ(in.start)
	}
	if in.kind == "seriesMaster" {
		o["recurrence"] = e.recur.json(e.start)
	}
	return o
}

func responseTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return isoZ(t)
}

func locationJSON(name string) map[string]any {
	if name == "" {
		return map[string]any{"displayName": "", "locationType": "default", "uniqueIdType": "unknown", "address": map[string]any{}, "coordinates": map[string]any{}}
	}
	return map[string]any{"displayName": name, "locationType": "default", "uniqueId": name, "uniqueIdType": "private"}
}

func (r *recurrence) json(start time.Time) map[string]any {
	days := []string{}
	for _, d := range r.days {
		days = append(days, strings.ToLower(d.String()))
	}
	end, count := "0001-01-01", 0
	switch r.rangeType {
	case "endDate":
		end = r.endDate.Format("2006-01-02")
	case "numbered":
		count = r.count
	}
	pattern := map[string]any{"type": r.typ, "interval": r.interval, "month": 0, "dayOfMonth": 0, "firstDayOfWeek": "sunday", "index": "first"}
	if r.typ == "weekly" {
		pattern["daysOfWeek"] = days
	}
	return map[string]any{
		"pattern": pattern,
		"range": map[string]any{"type": r.rangeType, "startDate": start.Format("2006-01-02"), "endDate": end,
			"recurrenceTimeZone": "UTC", "numberOfOccurrences": count},
	}
}

// calendarParam resolves the calendar of the path: /me/calendar and
// /me/calendarView mean the default one.
func (s *Sim) calendarParam(g *graphReq) (*calendar, error) {
	id, ok := g.params["calendar"]
	if !ok {
		return s.box.defaultCalendar(), nil
	}
	if c := s.box.calendar(id); c != nil {
		return c, nil
	}
	return nil, errNotFound // even for a malformed id, as for folders
}

// queryParam reads a non-OData query parameter case-insensitively.
func (g *graphReq) queryParam(name string) (string, bool) {
	for k, v := range g.query {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// windowParam parses startDateTime / endDateTime: ISO 8601, an offset is
// honoured, none means UTC.
func (g *graphReq) windowParam(name string) (time.Time, error) {
	v, _ := g.queryParam(name)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, gerr(400, "ErrorInvalidParameter", "The value '%s' of parameter '%s' is invalid.", v, strings.ToUpper(name[:1])+name[1:])
}

// GET /me/calendarView, /me/calendar/calendarView, /me/calendars/{id}/calendarView
func (s *Sim) calendarView(g *graphReq) (*reply, error) {
	cal, err := s.calendarParam(g)
	if err != nil {
		return nil, err
	}
	_, hasStart := g.queryParam("startDateTime")
	_, hasEnd := g.queryParam("endDateTime")
	if !hasStart || !hasEnd {
		return nil, gerr(400, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	from, err := g.windowParam("startDateTime")
	if err != nil {
		return nil, err
	}
	to, err := g.windowParam("endDateTime")
	if err != nil {
		return nil, err
	}
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	return s.listCalendar(g, cal, v, "calendarView", func(e *event) []instance { return e.instances(from, to, v.loc) })
}

// GET /me/events and /me/calendars/{id}/events: singles and series masters.
func (s *Sim) listEvents(g *graphReq) (*reply, error) {
	cal, err := s.calendarParam(g)
	if err != nil {
		return nil, err
	}
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	return s.listCalendar(g, cal, v, "events", func(e *event) []instance { return []instance{e.master(v.loc)} })
}

// listCalendar lists the items of cal's events that items gives (the
// occurrences in a window, or the events themselves), in start order.
func (s *Sim) listCalendar(g *graphReq, cal *calendar, v eventView, segment string, items func(*event) []instance) (*reply, error) {
	var list []instance
	for _, e := range s.box.events {
		if e.calendarID == cal.id {
			list = append(list, items(e)...)
		}
	}
	slices.SortStableFunc(list, byStart)
	ctx := s.mePath() + "/" + segment
	if _, ok := g.params["calendar"]; ok {
		ctx = s.mePath() + "/calendars('" + cal.id + "')/" + segment
	}
	return listEntities(g, eventType, list, listOptions{context: ctx}, func(in instance) map[string]any { return s.eventJSON(in, v) })
}

// GET /me/events/{id}
func (s *Sim) getEvent(g *graphReq) (*reply, error) {
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	in, err := s.box.findInstance(g.params["id"], v.loc)
	if err != nil {
		return nil, err
	}
	return entity(g, &eventType.entityInfo, s.mePath()+"/events/$entity", s.eventJSON(in, v))
}

var calendarInfo = &entityInfo{
	name: "microsoft.graph.calendar",
	props: []string{"id", "name", "color", "hexColor", "groupClassId", "isDefaultCalendar", "changeKey", "canShare",
		"canViewPrivateItems", "canEdit", "allowedOnlineMeetingProviders", "defaultOnlineMeetingProvider",
		"isTallyingResponses", "isRemovable", "owner"},
	keep:       []string{"id"},
	selectCode: "RequestBroker--ParseUri",
	filterCode: "ErrorInvalidUrlQueryFilter",
}

// GET /me/calendars
func (s *Sim) listCalendars(g *graphReq) (*reply, error) {
	t := &entityType[*calendar]{entityInfo: *calendarInfo, fields: map[string]field[*calendar]{
		"name": strField(func(c *calendar) string { return c.name }),
	}}
	return listEntities(g, t, s.box.calendars, listOptions{context: s.mePath() + "/calendars"}, func(c *calendar) map[string]any {
		return map[string]any{
			"id":                            c.id,
			"name":                          c.name,
			"color":                         c.color,
			"hexColor":                      c.hexColor,
			"groupClassId":                  "0006f0b7-0000-0000-c000-000000000046",
			"isDefaultCalendar":             c.isDefault,
			"changeKey":                     derivedID("", "calendar", c.id)[:24],
			"canShare":                      true,
			"canViewPrivateItems":           true,
			"canEdit":                       true,
			"allowedOnlineMeetingProviders": []string{"teamsForBusiness"},
			"defaultOnlineMeetingProvider":  "teamsForBusiness",
			"isTallyingResponses":           c.isDefault,
			"isRemovable":                   !c.isDefault,
			"owner":                         map[string]any{"name": s.box.me.DisplayName, "address": s.box.me.mailAddress()},
		}
	})
}
