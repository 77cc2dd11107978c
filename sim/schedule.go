package sim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Free/busy: POST /me/calendar/getSchedule and POST /me/findMeetingTimes.
// A person's schedule is the meetings of the fixture they take part in
// (colleagues' copies of the user's meetings) plus, for colleagues, their
// own appointments from the fixture's "schedules". Both calls exist only
// for work or school accounts.

// rawSchedule is one person's working hours and their own appointments.
type rawSchedule struct {
	User         string     `json:"user"`         // a colleague's address (the user's hours are in mailboxSettings)
	TimeZone     string     `json:"timeZone"`     // of the working hours (Windows or IANA name)
	WorkingHours string     `json:"workingHours"` // "09:00-17:30", Monday to Friday
	Events       []rawEvent `json:"events"`       // ids optional; showAs is the free/busy status
}

type schedule struct {
	hours  workingHours
	events []*event
}

var workingHoursRange = regexp.MustCompile(`^(\d{2}:\d{2})-(\d{2}:\d{2})$`)

func (b *mailbox) loadSchedules(raw []rawSchedule, c clock) error {
	b.schedules = map[string]*schedule{}
	for _, rs := range raw {
		addr := strings.ToLower(rs.User)
		if !b.inDirectory(addr) || strings.EqualFold(addr, b.me.mailAddress()) {
			return fmt.Errorf("schedule of %q: not a colleague in the directory (the user's working hours are in mailboxSettings)", rs.User)
		}
		m := workingHoursRange.FindStringSubmatch(rs.WorkingHours)
		if m == nil {
			return fmt.Errorf("schedule of %s: workingHours %q: want 09:00-17:30", rs.User, rs.WorkingHours)
		}
		wh := workingHours{DaysOfWeek: []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, StartTime: m[1] + ":00", EndTime: m[2] + ":00"}
		wh.TimeZone.Name = rs.TimeZone
		wh, err := checkWorkingHours(wh)
		if err != nil {
			return fmt.Errorf("schedule of %s: %w", rs.User, err)
		}
		sc := &schedule{hours: wh}
		for i, re := range rs.Events {
			re.ID = cmp.Or(re.ID, derivedID("AAMkAGZyZWVidXN5", "schedule", addr, strconv.Itoa(i)))
			re.Organizer = cmp.Or(re.Organizer, rs.User)
			e, err := b.loadEvent(re, c)
			if err != nil {
				return fmt.Errorf("schedule of %s: event %d: %w", rs.User, i, err)
			}
			sc.events = append(sc.events, e)
		}
		b.schedules[addr] = sc
	}
	return nil
}

func (b *mailbox) inDirectory(addr string) bool {
	for _, u := range append([]*user{b.me}, b.users...) {
		if strings.EqualFold(u.mailAddress(), addr) {
			return true
		}
	}
	return false
}

// busyItem is one entry of a person's free/busy.
type busyItem struct {
	in      instance
	status  string // free, tentative, busy, oof, workingElsewhere
	private bool   // someone else's private item: its time only
}

// statusRank orders free/busy states: the strongest one wins a slot.
var statusRank = map[string]int{"free": 0, "workingElsewhere": 1, "tentative": 2, "busy": 3, "oof": 4}

// availabilityDigit is getSchedule's availabilityView code of a status.
var availabilityDigit = map[string]byte{"free": '0', "tentative": '1', "busy": '2', "oof": '3', "workingElsewhere": '4'}

// freeBusy lists what keeps addr busy between from and to; false when
// addr is nobody in the organization (their free/busy is unknown).
func (s *Sim) freeBusy(addr string, from, to time.Time) ([]busyItem, *schedule, bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if !s.box.inDirectory(addr) {
		return nil, nil, false
	}
	isMe := strings.EqualFold(addr, s.box.me.mailAddress())
	sc := s.box.schedules[addr]
	if isMe || sc == nil {
		// The user's own working hours, which colleagues without a
		// schedule of their own share.
		sc = &schedule{hours: s.box.settings.workingHours}
	}
	var items []busyItem
	add := func(e *event, status func(*event) string) {
		for _, in := range e.instances(from, to, time.UTC) {
			if st := status(in.ev); st != "" && !in.ev.cancelled && st != "free" {
				items = append(items, busyItem{in: in, status: st, private: !isMe && in.ev.sensitivity == "private"})
			}
		}
	}
	def := s.box.defaultCalendar().id
	for _, e := range s.box.events {
		if e.calendarID != def {
			continue // only the main calendar publishes free/busy
		}
		add(e, func(e *event) string {
			if isMe {
				switch e.response {
				case "declined":
					return ""
				case "notResponded", "none":
					if e.showAs == "busy" {
						return "tentative" // Exchange pencils in unanswered invitations
					}
				}
				return e.showAs
			}
			if strings.EqualFold(e.organizer.Address, addr) {
				return "busy"
			}
			for _, a := range e.attendees {
				if strings.EqualFold(a.who.Address, addr) {
					return map[string]string{"accepted": "busy", "tentativelyAccepted": "tentative", "none": "tentative", "notResponded": "tentative"}[a.response]
				}
			}
			return ""
		})
	}
	for _, e := range sc.events {
		add(e, func(e *event) string { return e.showAs })
	}
	slices.SortStableFunc(items, func(a, b busyItem) int { return byStart(a.in, b.in) })
	return items, sc, true
}

// statusAt is the strongest status of items overlapping [from, to).
func statusAt(items []busyItem, from, to time.Time) string {
	status := "free"
	for _, it := range items {
		if it.in.start.Before(to) && it.in.end.After(from) && statusRank[it.status] > statusRank[status] {
			status = it.status
		}
	}
	return status
}

// working reports whether [from, to) lies within sc's working hours on
// one working day.
func (sc *schedule) working(from, to time.Time) bool {
	loc, err := resolveZone(sc.hours.TimeZone.Name)
	if err != nil {
		loc = time.UTC
	}
	local := from.In(loc)
	if !slices.Contains(sc.hours.DaysOfWeek, strings.ToLower(local.Weekday().String())) {
		return false
	}
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	at := func(clock string) time.Time {
		t, _ := time.Parse("15:04:05.9999999", clock)
		return midnight.Add(t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
	return !from.Before(at(sc.hours.StartTime)) && !to.After(at(sc.hours.EndTime))
}

// errWorkOrSchool is what Graph answers a personal Microsoft account for
// calls that exist only in Exchange Online organizations.
var errWorkOrSchool = errAccessDenied

// dateTimeTimeZone as Graph renders it in the zone v asked for.
func (v eventView) dateTime(t time.Time) map[string]any {
	return map[string]any{"dateTime": graphDateTime(t.In(v.loc)), "timeZone": v.zone}
}

// requiredWindow reads a request's start and end (named as Graph names
// them in its errors): both needed, the end later.
func requiredWindow(start, end *dateTimeTimeZone, startName, endName string) (from, to time.Time, err error) {
	for _, d := range []struct {
		v    *dateTimeTimeZone
		name string
		into *time.Time
	}{{start, startName, &from}, {end, endName, &to}} {
		if d.v == nil {
			return from, to, gerr(400, "ErrorInvalidParameter", "The value of the parameter '%s' is empty.", d.name)
		}
		if *d.into, err = d.v.instant(); err != nil {
			return from, to, err
		}
	}
	if !to.After(from) {
		return from, to, gerr(400, "ErrorInvalidParameter", "The %s must be later than the %s.", endName, startName)
	}
	return from.UTC(), to.UTC(), nil
}

// POST /me/calendar/getSchedule {"schedules","startTime","endTime","availabilityViewInterval"}
func (s *Sim) getSchedule(g *graphReq) (*reply, error) {
	if s.opts.PersonalAccount {
		return nil, errWorkOrSchool
	}
	var req struct {
		Schedules                []string          `json:"schedules"`
		StartTime                *dateTimeTimeZone `json:"startTime"`
		EndTime                  *dateTimeTimeZone `json:"endTime"`
		AvailabilityViewInterval *int              `json:"availabilityViewInterval"`
	}
	if err := strictJSON(g.body, &req, "microsoft.graph.getSchedule"); err != nil {
		return nil, err
	}
	if len(req.Schedules) == 0 {
		return nil, gerr(400, "ErrorInvalidParameter", "The value of the parameter 'Schedules' is empty.")
	}
	if len(req.Schedules) > 100 {
		return nil, gerr(400, "ErrorInvalidParameter", "Too many schedules requested: at most 100.")
	}
	from, to, err := requiredWindow(req.StartTime, req.EndTime, "StartTime", "EndTime")
	if err != nil {
		return nil, err
	}
	if to.Sub(from) > 62*24*time.Hour {
		return nil, gerr(400, "ErrorInvalidParameter", "The requested time window is longer than 62 days.")
	}
	interval := 30
	if req.AvailabilityViewInterval != nil {
		interval = *req.AvailabilityViewInterval
	}
	if interval < 5 || interval > 1440 {
		return nil, gerr(400, "ErrorInvalidParameter", "The availabilityViewInterval must be between 5 and 1440 minutes.")
	}
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	step := time.Duration(interval) * time.Minute
	out := []any{}
	for _, addr := range req.Schedules {
		items, sc, ok := s.freeBusy(addr, from, to)
		if !ok {
			out = append(out, map[string]any{"scheduleId": addr, "error": map[string]any{
				"message": fmt.Sprintf("Unable to resolve e-mail address %s to an Active Directory object.", addr), "responseCode": "5009"}})
			continue
		}
		var view []byte
		for t := from; t.Before(to); t = t.Add(step) {
			view = append(view, availabilityDigit[statusAt(items, t, t.Add(step))])
		}
		list := []any{}
		for _, it := range items {
			e := it.in.ev
			o := map[string]any{
				"isPrivate": it.private, "status": it.status,
				"isMeeting": len(e.attendees) > 0, "isRecurring": it.in.kind == "occurrence",
				"isException": it.in.kind == "occurrence" && it.in.ev != it.in.series, "isReminderSet": true,
				"start": v.dateTime(it.in.start), "end": v.dateTime(it.in.end),
			}
			if !it.private {
				o["subject"], o["location"] = e.subject, e.location
			}
			list = append(list, o)
		}
		out = append(out, map[string]any{
			"scheduleId": addr, "availabilityView": string(view), "scheduleItems": list,
			"workingHours": sc.hours,
		})
	}
	return &reply{body: map[string]any{"@odata.context": graphRoot + "/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)", "value": out}}, nil
}

// isoDuration reads an ISO 8601 duration of days, hours, minutes, seconds.
var isoDurationRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

func isoDuration(s string) (time.Duration, bool) {
	m := isoDurationRE.FindStringSubmatch(strings.ToUpper(s))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		n, _ := strconv.Atoi(m[i+1])
		d += time.Duration(n) * unit
	}
	return d, true
}

type meetingAttendee struct {
	Type         string `json:"type"`
	EmailAddress struct {
		Address string `json:"address"`
		Name    string `json:"name"`
	} `json:"emailAddress"`
}

// attendance is the chance an attendee comes, by availability, as Graph
// weighs it in a suggestion's confidence.
var attendance = map[string]float64{"free": 100, "workingElsewhere": 100, "tentative": 50, "busy": 0, "oof": 0, "unknown": 49}

// POST /me/findMeetingTimes: suggestions at half-hour steps within the
// organizer's working hours, ranked by confidence, then the earliest. As
// on Graph, the attendees' working hours play no part: a colleague five
// hours behind is "free" at 05:00 their time.
func (s *Sim) findMeetingTimes(g *graphReq) (*reply, error) {
	if s.opts.PersonalAccount {
		return nil, errWorkOrSchool
	}
	var req struct {
		Attendees          []meetingAttendee `json:"attendees"`
		LocationConstraint json.RawMessage   `json:"locationConstraint"`
		TimeConstraint     *struct {
			ActivityDomain string `json:"activityDomain"`
			TimeSlots      []struct {
				Start *dateTimeTimeZone `json:"start"`
				End   *dateTimeTimeZone `json:"end"`
			} `json:"timeSlots"`
		} `json:"timeConstraint"`
		MeetingDuration           string   `json:"meetingDuration"`
		MaxCandidates             *int     `json:"maxCandidates"`
		IsOrganizerOptional       bool     `json:"isOrganizerOptional"`
		ReturnSuggestionReasons   bool     `json:"returnSuggestionReasons"`
		MinimumAttendeePercentage *float64 `json:"minimumAttendeePercentage"`
	}
	if err := strictJSON(g.body, &req, "microsoft.graph.findMeetingTimes"); err != nil {
		return nil, err
	}
	duration := 30 * time.Minute
	if req.MeetingDuration != "" {
		d, ok := isoDuration(req.MeetingDuration)
		if !ok {
			return nil, gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.Duration'.", req.MeetingDuration)
		}
		duration = d
	}
	if duration <= 0 {
		return nil, gerr(400, "ErrorInvalidParameter", "The meeting duration must be greater than zero.")
	}
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	type window struct{ from, to time.Time }
	var windows []window
	domain := "work"
	if tc := req.TimeConstraint; tc != nil {
		domain = cmp.Or(tc.ActivityDomain, domain)
		if !slices.Contains([]string{"work", "personal", "unrestricted", "unknown"}, domain) {
			return nil, gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.activityDomain'.", domain)
		}
		for _, ts := range tc.TimeSlots {
			from, to, err := requiredWindow(ts.Start, ts.End, "Start", "End")
			if err != nil {
				return nil, err
			}
			windows = append(windows, window{from, to})
		}
	}
	if len(windows) == 0 {
		// Without a time constraint: the next two working days.
		windows = []window{{g.now, addWeekdays(g.now.Truncate(24*time.Hour), 2).Add(24 * time.Hour)}}
	}
	maxCandidates := 20
	if req.MaxCandidates != nil {
		maxCandidates = *req.MaxCandidates
	}
	minPct := 50.0
	if req.MinimumAttendeePercentage != nil {
		minPct = *req.MinimumAttendeePercentage
	}

	me := s.box.me.mailAddress()
	span := window{windows[0].from, windows[0].to}
	for _, w := range windows {
		span.from, span.to = minTime(span.from, w.from), maxTime(span.to, w.to)
	}
	mine, organizer, _ := s.freeBusy(me, span.from, span.to)
	type who struct {
		a     meetingAttendee
		items []busyItem
		known bool
	}
	people := make([]who, len(req.Attendees))
	anyUnknown := false
	for i, a := range req.Attendees {
		items, _, ok := s.freeBusy(a.EmailAddress.Address, span.from, span.to)
		people[i] = who{a: a, items: items, known: ok}
		anyUnknown = anyUnknown || !ok
	}

	type suggestion struct {
		start      time.Time
		confidence float64
		json       map[string]any
	}
	var found []suggestion
	slots, organizerFree := 0, 0
	const step = 30 * time.Minute
	for _, w := range windows {
		first := w.from.Truncate(step)
		if first.Before(w.from) {
			first = first.Add(step)
		}
		for start := first; !start.Add(duration).After(w.to); start = start.Add(step) {
			end := start.Add(duration)
			inHours := organizer.working(start, end)
			if (domain == "work" && !inHours) || (domain == "personal" && inHours) {
				continue
			}
			slots++
			own := statusAt(mine, start, end)
			if own == "free" || own == "workingElsewhere" {
				organizerFree++
			} else if !req.IsOrganizerOptional {
				continue
			}
			var sum float64
			avail := []any{}
			for _, p := range people {
				st := "unknown"
				if p.known {
					st = statusAt(p.items, start, end)
				}
				sum += attendance[st]
				avail = append(avail, map[string]any{"availability": st, "attendee": map[string]any{
					"type": cmp.Or(p.a.Type, "required"), "emailAddress": map[string]any{"address": p.a.EmailAddress.Address}}})
			}
			confidence := 100.0
			if len(people) > 0 {
				confidence = math.Round(sum/float64(len(people))*100) / 100
			}
			if confidence < minPct {
				continue
			}
			o := map[string]any{
				"confidence": confidence, "organizerAvailability": own, "attendeeAvailability": avail, "locations": []any{},
				"meetingTimeSlot": map[string]any{"start": v.dateTime(start), "end": v.dateTime(end)},
			}
			if req.ReturnSuggestionReasons {
				o["suggestionReason"] = "Suggested because it is one of the nearest times when all attendees are available."
				if confidence < 100 {
					o["suggestionReason"] = "Suggested because it is one of the nearest times when most attendees are available."
				}
			}
			found = append(found, suggestion{start, confidence, o})
		}
	}
	slices.SortStableFunc(found, func(a, b suggestion) int {
		if c := cmp.Compare(b.confidence, a.confidence); c != 0 {
			return c
		}
		return a.start.Compare(b.start)
	})
	list := []any{}
	for _, f := range found[:min(len(found), max(maxCandidates, 0))] {
		list = append(list, f.json)
	}
	reason := ""
	switch {
	case len(list) > 0:
	case slots == 0, organizerFree == 0 && !req.IsOrganizerOptional:
		reason = "organizerUnavailable"
	case anyUnknown:
		reason = "attendeesUnavailableOrUnknown"
	default:
		reason = "attendeesUnavailable"
	}
	return &reply{body: map[string]any{
		"@odata.context":         graphRoot + "/v1.0/$metadata#microsoft.graph.meetingTimeSuggestionsResult",
		"emptySuggestionsReason": reason,
		"meetingTimeSuggestions": list,
	}}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
