package tools

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Other people's availability. Both Graph calls exist only for work or
// school accounts; they are POSTs that change nothing, so they may be
// retried.

// scheduleWindow reads start and end of a free/busy question. A date is
// midnight UTC (an end date includes that day); results use the offset of
// start, or UTC.
func scheduleWindow(start, end string) (from, to time.Time, err error) {
	from, _, err = parseTime("start", start, time.UTC)
	if err != nil {
		return
	}
	to, endDate, err := parseTime("end", end, time.UTC)
	if err != nil {
		return
	}
	if endDate {
		to = to.AddDate(0, 0, 1)
	}
	if !to.After(from) {
		err = argError("end", "must be after start")
	}
	return
}

// uniqueAddresses validates a list of attendees' addresses, without repeats.
func uniqueAddresses(arg string, list []string, max int) ([]string, error) {
	var out []string
	for _, s := range list {
		a, err := parseRecipient(arg, s)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, a.Address) }) {
			out = append(out, a.Address)
		}
	}
	if len(out) > max {
		return nil, argError(arg, "at most %d addresses, not %d", max, len(out))
	}
	return out, nil
}

// schedulePost is a read-only POST: retried like a GET.
func schedulePost(ctx context.Context, c *Call, path string, body, out any) error {
	return c.Conn.Do(ctx, nango.Request{
		Method: http.MethodPost, Path: path, Body: body, Idempotent: true,
		Header: http.Header{"Prefer": {`outlook.timezone="UTC"`}},
	}, out)
}

// ---- get_free_busy ----

type GetFreeBusyArgs struct {
	Emails          []string `json:"emails" jsonschema_description:"People or rooms in the user's organization."`
	Start           string   `json:"start" jsonschema_description:"RFC 3339 or a date (UTC); results use its offset."`
	End             string   `json:"end"`
	IntervalMinutes int      `json:"interval_minutes,omitempty" jsonschema:"minimum=5,maximum=1440,default=30"`
}

type BusyInterval struct {
	Start   string `json:"start"`
	End     string `json:"end"`
	Status  string `json:"status" jsonschema_description:"busy, tentative, oof or workingElsewhere"`
	Subject string `json:"subject,omitempty"`
}

type PersonSchedule struct {
	Email        string         `json:"email"`
	Busy         []BusyInterval `json:"busy"`
	WorkingHours string         `json:"working_hours,omitempty"`
	Error        string         `json:"error,omitempty"`
}

type FreeBusyResult struct {
	Start     string           `json:"start"`
	End       string           `json:"end"`
	Schedules []PersonSchedule `json:"schedules"`
}

type graphScheduleItem struct {
	Status  string    `json:"status"`
	Subject string    `json:"subject"`
	Start   graphTime `json:"start"`
	End     graphTime `json:"end"`
}

type graphSchedule struct {
	ScheduleID       string              `json:"scheduleId"`
	AvailabilityView string              `json:"availabilityView"`
	ScheduleItems    []graphScheduleItem `json:"scheduleItems"`
	WorkingHours     *graphWorkingHours  `json:"workingHours"`
	Error            *struct {
		Message string `json:"message"`
	} `json:"error"`
}

var getFreeBusy = workOrSchoolOnly(define("get_free_busy", "Check free/busy",
	"When colleagues (or rooms) are busy between start and end: per person, merged busy, tentative and out-of-office intervals (with subjects where visible) and their working hours. Work or school accounts only. To pick a time for a meeting, find_meeting_times is simpler.",
	[]string{"Calendars.Read", "Calendars.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in GetFreeBusyArgs) (*FreeBusyResult, error) {
		emails, err := uniqueAddresses("emails", in.Emails, 20)
		if err != nil {
			return nil, err
		}
		from, to, err := scheduleWindow(in.Start, in.End)
		if err != nil {
			return nil, err
		}
		interval, err := checkLimit(in.IntervalMinutes, 30, 1440)
		if err != nil || interval < 5 {
			return nil, argError("interval_minutes", "must be between 5 and 1440, not %d", in.IntervalMinutes)
		}
		schedules, err := getSchedules(ctx, c, emails, from, to, interval)
		if err != nil {
			return nil, err
		}
		loc := from.Location()
		out := &FreeBusyResult{Start: from.Format(time.RFC3339), End: to.In(loc).Format(time.RFC3339), Schedules: []PersonSchedule{}}
		for _, s := range schedules {
			out.Schedules = append(out.Schedules, s.person(from, time.Duration(interval)*time.Minute, loc))
		}
		return out, nil
	}))

// getSchedules is Graph's getSchedule: each person's free/busy between
// from and to, in UTC, and their working hours.
func getSchedules(ctx context.Context, c *Call, emails []string, from, to time.Time, interval int) ([]graphSchedule, error) {
	var res graphPage[graphSchedule]
	err := schedulePost(ctx, c, "/me/calendar/getSchedule", map[string]any{
		"schedules":                emails,
		"startTime":                graphDateTime(from, time.UTC, "UTC"),
		"endTime":                  graphDateTime(to, time.UTC, "UTC"),
		"availabilityViewInterval": interval,
	}, &res)
	return res.Value, err
}

// person merges a schedule's items into intervals: overlapping or
// touching items of one status become one, their subjects listed.
func (s graphSchedule) person(from time.Time, step time.Duration, loc *time.Location) PersonSchedule {
	p := PersonSchedule{Email: s.ScheduleID, Busy: []BusyInterval{}}
	if s.Error != nil {
		p.Error = s.Error.Message
		return p
	}
	if wh := s.WorkingHours; wh != nil && wh.StartTime != "" {
		p.WorkingHours = wh.String()
	}
	type span struct {
		start, end time.Time
		status     string
		subjects   []string
	}
	var spans []span
	for _, it := range s.ScheduleItems {
		start, err1 := parseGraphTime(it.Start)
		end, err2 := parseGraphTime(it.End)
		if err1 != nil || err2 != nil || it.Status == "free" || it.Status == "unknown" {
			continue
		}
		spans = append(spans, span{start, end, it.Status, nil})
		if it.Subject != "" {
			spans[len(spans)-1].subjects = []string{it.Subject}
		}
	}
	if len(s.ScheduleItems) == 0 {
		// Only the availability digits are known: one span per slot.
		status := map[rune]string{'1': "tentative", '2': "busy", '3': "oof", '4': "workingElsewhere"}
		for i, d := range s.AvailabilityView {
			if st, ok := status[d]; ok {
				start := from.Add(time.Duration(i) * step)
				spans = append(spans, span{start, start.Add(step), st, nil})
			}
		}
	}
	slices.SortStableFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	var merged []span
	for _, sp := range spans {
		if n := len(merged); n > 0 && merged[n-1].status == sp.status && !sp.start.After(merged[n-1].end) {
			last := &merged[n-1]
			if sp.end.After(last.end) {
				last.end = sp.end
			}
			for _, subj := range sp.subjects {
				if !slices.Contains(last.subjects, subj) {
					last.subjects = append(last.subjects, subj)
				}
			}
			continue
		}
		merged = append(merged, sp)
	}
	for _, sp := range merged {
		p.Busy = append(p.Busy, BusyInterval{
			Start: sp.start.In(loc).Format(time.RFC3339), End: sp.end.In(loc).Format(time.RFC3339),
			Status: sp.status, Subject: strings.Join(sp.subjects, "; "),
		})
	}
	return p
}

// parseGraphTime reads a dateTimeTimeZone that Graph gave in UTC.
func parseGraphTime(t graphTime) (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04:05.9999999", t.DateTime, time.UTC)
}

func (r *FreeBusyResult) Text() string {
	var b strings.Builder
	for i, p := range r.Schedules {
		var times listTimes // each person's days in full
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Email)
		if p.Error != "" {
			b.WriteString(": unknown (" + p.Error + ")")
			continue
		}
		if p.WorkingHours != "" {
			b.WriteString(", works " + p.WorkingHours)
		}
		if len(p.Busy) == 0 {
			b.WriteString("\n  free the whole time")
		}
		for _, iv := range p.Busy {
			fmt.Fprintf(&b, "\n  %s %s", times.span(iv.Start, iv.End, false), iv.Status)
			if iv.Subject != "" {
				b.WriteString(": " + iv.Subject)
			}
		}
	}
	// Subjects are others' (and working hours their settings): one fence.
	return fmt.Sprintf("Free/busy %s – %s:\n%s", r.Start, r.End, untrusted(b.String()))
}

// ---- find_meeting_times ----

type FindMeetingTimesArgs struct {
	Attendees       []string `json:"attendees" jsonschema_description:"Email addresses; the user is the organizer."`
	DurationMinutes int      `json:"duration_minutes" jsonschema:"minimum=1,maximum=1440"`
	Start           string   `json:"start,omitempty" jsonschema_description:"Window to search (RFC 3339 or a UTC date), with end. Default: the next two working days."`
	End             string   `json:"end,omitempty"`
	MaxCandidates   int      `json:"max_candidates,omitempty" jsonschema:"minimum=1,maximum=20,default=5"`
}

type MeetingSlot struct {
	Start        string            `json:"start"`
	End          string            `json:"end"`
	Confidence   float64           `json:"confidence" jsonschema_description:"Chance in % that everyone can come."`
	Availability map[string]string `json:"availability" jsonschema_description:"Per attendee: free, tentative, busy, oof or unknown."`
	LocalTimes   map[string]string `json:"local_times,omitempty" jsonschema_description:"Start in each person's zone (the user's too)."`
	OutsideHours []string          `json:"outside_hours,omitempty" jsonschema_description:"Whose working hours it is outside."`

	local map[string]time.Time // LocalTimes with their zones, for the text
}

type MeetingTimesResult struct {
	Suggestions []MeetingSlot `json:"suggestions"`
	Reason      string        `json:"reason,omitempty" jsonschema_description:"Why there is none."`
	Notes       []string      `json:"notes,omitempty" jsonschema_description:"Hours that never overlap; what was not checked."`
	NotShown    int           `json:"not_shown,omitempty" jsonschema_description:"Left out to fit the response budget."`

	names map[string]string // address (lower case) → short name in the text
}

var findMeetingTimes = workOrSchoolOnly(define("find_meeting_times", "Find meeting times",
	"Suggest times when the user and the attendees are free for duration_minutes, best first, with each attendee's availability and local time; times outside anyone's working hours last. Work or school accounts only. Book one with create_event.",
	[]string{"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in FindMeetingTimesArgs) (*MeetingTimesResult, error) {
		attendees, err := uniqueAddresses("attendees", in.Attendees, 20)
		if err != nil {
			return nil, err
		}
		if in.DurationMinutes <= 0 || in.DurationMinutes > 1440 {
			return nil, argError("duration_minutes", "must be between 1 and 1440, not %d", in.DurationMinutes)
		}
		maxCandidates, err := checkLimit(in.MaxCandidates, 5, 20)
		if err != nil {
			return nil, argError("max_candidates", "must be between 1 and 20, not %d", in.MaxCandidates)
		}
		// With working hours to rank by, Outlook is asked for the most
		// candidates: those in everyone's hours then come first.
		ask := maxCandidates
		if c.Granted.HasAny(scheduleScopes()...) {
			ask = 20
		}
		body := map[string]any{
			"attendees":               []map[string]any{},
			"meetingDuration":         fmt.Sprintf("PT%dM", in.DurationMinutes),
			"maxCandidates":           ask,
			"returnSuggestionReasons": true,
		}
		list := body["attendees"].([]map[string]any)
		for _, a := range attendees {
			list = append(list, map[string]any{"type": "required", "emailAddress": map[string]string{"address": a}})
		}
		body["attendees"] = list
		loc := time.UTC
		// The days whose working hours are compared: the window, else
		// the coming week (Outlook's default window is shorter, but its
		// exact bounds are not given back).
		win := hoursWindow{from: time.Now().UTC(), to: time.Now().UTC().AddDate(0, 0, 7), given: false}
		switch {
		case in.Start != "" && in.End != "":
			from, to, err := scheduleWindow(in.Start, in.End)
			if err != nil {
				return nil, err
			}
			if to.Sub(from) < time.Duration(in.DurationMinutes)*time.Minute {
				return nil, argError("duration_minutes", "is longer than the window from start to end")
			}
			loc = from.Location()
			win = hoursWindow{from: from, to: to, given: true}
			body["timeConstraint"] = map[string]any{"activityDomain": "work", "timeSlots": []map[string]any{{
				"start": graphDateTime(from, time.UTC, "UTC"), "end": graphDateTime(to, time.UTC, "UTC"),
			}}}
		case in.Start != "":
			return nil, argError("end", "is required with start")
		case in.End != "":
			return nil, argError("start", "is required with end")
		}

		// Outlook ranks by free/busy within the organizer's working hours
		// only: the attendees' hours come from getSchedule, asked at the
		// same time.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var hours workingHoursOf
		var wg sync.WaitGroup
		wg.Go(func() { hours = lookUpWorkingHours(ctx, c, attendees, win) })
		var res struct {
			EmptySuggestionsReason string `json:"emptySuggestionsReason"`
			MeetingTimeSuggestions []struct {
				Confidence           float64 `json:"confidence"`
				AttendeeAvailability []struct {
					Availability string         `json:"availability"`
					Attendee     graphRecipient `json:"attendee"`
				} `json:"attendeeAvailability"`
				MeetingTimeSlot struct {
					Start graphTime `json:"start"`
					End   graphTime `json:"end"`
				} `json:"meetingTimeSlot"`
			} `json:"meetingTimeSuggestions"`
		}
		if err := schedulePost(ctx, c, "/me/findMeetingTimes", body, &res); err != nil {
			cancel()
			wg.Wait()
			return nil, err
		}
		wg.Wait()
		out := &MeetingTimesResult{Suggestions: []MeetingSlot{}, names: shortNames(hours.me, attendees)}
		for _, s := range res.MeetingTimeSuggestions {
			start, err1 := parseGraphTime(s.MeetingTimeSlot.Start)
			end, err2 := parseGraphTime(s.MeetingTimeSlot.End)
			if err1 != nil || err2 != nil {
				continue
			}
			slot := MeetingSlot{Start: start.In(loc).Format(time.RFC3339), End: end.In(loc).Format(time.RFC3339), Confidence: s.Confidence, Availability: map[string]string{}}
			for _, a := range s.AttendeeAvailability {
				slot.Availability[a.Attendee.EmailAddress.Address] = a.Availability
			}
			hours.mark(&slot, start, end)
			out.Suggestions = append(out.Suggestions, slot)
		}
		// Outside someone's hours: last, Outlook's order kept otherwise.
		slices.SortStableFunc(out.Suggestions, func(a, b MeetingSlot) int {
			return cmp.Compare(min(len(a.OutsideHours), 1), min(len(b.OutsideHours), 1))
		})
		out.Suggestions = out.Suggestions[:min(len(out.Suggestions), maxCandidates)]
		if len(out.Suggestions) == 0 {
			out.Reason = emptySuggestionsReason(res.EmptySuggestionsReason)
		}
		out.Notes = hours.notes(out.names, win)
		return out, nil
	}))

// emptySuggestionsReason explains Graph's emptySuggestionsReason.
func emptySuggestionsReason(code string) string {
	switch strings.ToLower(code) {
	case "attendeesunavailable":
		return "The attendees' calendars are known, but too few of them are free at any time in the window. Try a wider window, a shorter meeting or fewer attendees."
	case "attendeesunavailableorunknown":
		return "Some attendees' availability is unknown (outside the organization, or not shared), so no time reaches Outlook's 50% confidence. Ask them directly, or check colleagues with get_free_busy."
	case "locationsunavailable":
		return "No meeting room is free at the times that suit the attendees."
	case "organizerunavailable":
		return "You are not free within your working hours in this window. Try another window."
	}
	if code != "" {
		code = " (" + code + ")"
	}
	return "Outlook gave no reason" + code + ". Try a wider window or fewer attendees."
}

// shrink drops the last suggestion (the least good) to fit the budget.
func (r *MeetingTimesResult) shrink() bool {
	if len(r.Suggestions) <= 1 {
		return false
	}
	r.Suggestions = r.Suggestions[:len(r.Suggestions)-1]
	r.NotShown++
	return true
}

func (r *MeetingTimesResult) Text() string {
	var b strings.Builder
	if len(r.Suggestions) == 0 {
		b.WriteString("No meeting times found. " + r.Reason)
	} else {
		fmt.Fprintf(&b, "%d suggested times, best first (%s)", len(r.Suggestions), offsetOf(r.Suggestions[0].Start))
		outside := func(s MeetingSlot) bool { return len(s.OutsideHours) > 0 }
		switch {
		case !slices.ContainsFunc(r.Suggestions, func(s MeetingSlot) bool { return !outside(s) }):
			b.WriteString("; none is within everyone's working hours")
		case slices.ContainsFunc(r.Suggestions, outside):
			b.WriteString("; those outside someone's working hours last")
		}
		b.WriteByte(':')
	}
	for _, n := range r.Notes {
		b.WriteString("\n" + n)
	}
	var times listTimes
	for i, s := range r.Suggestions {
		fmt.Fprintf(&b, "\n%d. %s, confidence %.0f%%; ", i+1, times.span(s.Start, s.End, false), s.Confidence)
		var notFree []string
		for who, a := range s.Availability {
			if a != "free" {
				notFree = append(notFree, r.name(who)+" "+a)
			}
		}
		slices.Sort(notFree)
		var outside []string
		for _, who := range s.OutsideHours {
			outside = append(outside, r.name(who)+" ("+localClock(s.local[strings.ToLower(who)], s.Start)+" local)")
		}
		switch {
		case len(outside) > 0 && len(notFree) == 0:
			b.WriteString("free but outside working hours: " + strings.Join(outside, ", "))
		case len(outside) > 0:
			b.WriteString(strings.Join(notFree, ", ") + "; outside working hours: " + strings.Join(outside, ", "))
		case len(notFree) > 0:
			b.WriteString(strings.Join(notFree, ", "))
		default:
			b.WriteString("everyone free")
		}
		if local := r.localTimes(s); local != "" {
			b.WriteString(". Local: " + local)
		}
	}
	if r.NotShown > 0 {
		fmt.Fprintf(&b, "\n(%d more not shown, to fit the response budget: ask for fewer attendees or max_candidates.)", r.NotShown)
	}
	return b.String()
}

// localClock is t's wall clock, with its weekday when its date is not
// that of the slot's start as the text shows it.
func localClock(t time.Time, start string) string {
	if !strings.HasPrefix(start, t.Format(time.DateOnly)) {
		return t.Format("Mon 15:04")
	}
	return t.Format("15:04")
}

// name is how the text calls a person: the part of the address before @
// unless two people share it, "you" for the user.
func (r *MeetingTimesResult) name(addr string) string {
	if n, ok := r.names[strings.ToLower(addr)]; ok {
		return n
	}
	return addr
}

// localTimes renders a slot in each person's zone, people at the same
// local time together: "marcus.chen 07:30–08:30 EST; you, kenji 12:30–13:30 GMT".
func (r *MeetingTimesResult) localTimes(s MeetingSlot) string {
	start, err1 := time.Parse(time.RFC3339, s.Start)
	end, err2 := time.Parse(time.RFC3339, s.End)
	if err1 != nil || err2 != nil {
		return ""
	}
	type group struct {
		when  string
		names []string
	}
	var groups []group
	for who, t := range s.local {
		when := localClock(t, s.Start) + "–" + t.Add(end.Sub(start)).Format("15:04") + " " + t.Format("MST")
		i := slices.IndexFunc(groups, func(g group) bool { return g.when == when })
		if i < 0 {
			groups = append(groups, group{when: when})
			i = len(groups) - 1
		}
		groups[i].names = append(groups[i].names, r.name(who))
	}
	hasYou := func(g group) int { return boolInt(slices.Contains(g.names, "you")) }
	for _, g := range groups {
		slices.SortFunc(g.names, func(a, b string) int {
			return cmp.Or(cmp.Compare(boolInt(b == "you"), boolInt(a == "you")), strings.Compare(a, b))
		})
	}
	slices.SortFunc(groups, func(a, b group) int { // the user's first
		return cmp.Or(cmp.Compare(hasYou(b), hasYou(a)), strings.Compare(a.names[0], b.names[0]))
	})
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(g.names, ", ") + " " + g.when
	}
	return strings.Join(parts, "; ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- working hours, for find_meeting_times ----

// workHours is a person's working hours as getSchedule gives them.
type workHours struct {
	loc        *time.Location
	days       [7]bool
	start, end int // minutes after midnight; end <= start: overnight
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// parseWorkHours reads Graph's workingHours; false when they are missing
// or in a time zone that cannot be resolved (a custom one).
func parseWorkHours(w *graphWorkingHours) (workHours, bool) {
	if w == nil {
		return workHours{}, false
	}
	loc, ok := location(w.TimeZone.Name)
	h := workHours{loc: loc}
	var err1, err2 error
	h.start, err1 = minuteOfDay(w.StartTime)
	h.end, err2 = minuteOfDay(w.EndTime)
	anyDay := false
	for _, d := range w.DaysOfWeek {
		if wd, ok := weekdayNames[strings.ToLower(d)]; ok {
			h.days[wd], anyDay = true, true
		}
	}
	return h, ok && anyDay && err1 == nil && err2 == nil
}

// minuteOfDay reads an Edm.TimeOfDay (09:00:00.0000000).
func minuteOfDay(s string) (int, error) {
	t, err := time.Parse("15:04", clockTime(s))
	return t.Hour()*60 + t.Minute(), err
}

// spans are h's working periods within [from, to), clipped to it.
func (h workHours) spans(from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	d := from.In(h.loc)
	for day := time.Date(d.Year(), d.Month(), d.Day()-1, 0, 0, 0, 0, h.loc); day.Before(to); day = day.AddDate(0, 0, 1) {
		if !h.days[day.Weekday()] {
			continue
		}
		y, m, dd := day.Date()
		start := time.Date(y, m, dd, 0, h.start, 0, 0, h.loc)
		end := time.Date(y, m, dd, 0, h.end, 0, 0, h.loc)
		if h.end <= h.start {
			end = time.Date(y, m, dd+1, 0, h.end, 0, 0, h.loc)
		}
		if start.Before(to) && end.After(from) {
			out = append(out, [2]time.Time{maxOf(start, from), minOf(end, to)})
		}
	}
	return out
}

// within reports whether [from, to) lies in one working period.
func (h workHours) within(from, to time.Time) bool {
	for _, s := range h.spans(from, to) {
		if s[0].Equal(from) && s[1].Equal(to) {
			return true
		}
	}
	return false
}

// overlaps reports whether h and o share working time within [from, to).
func (h workHours) overlaps(o workHours, from, to time.Time) bool {
	mine := h.spans(from, to)
	for _, s := range o.spans(from, to) {
		for _, m := range mine {
			if s[0].Before(m[1]) && m[0].Before(s[1]) {
				return true
			}
		}
	}
	return false
}

// String is "Mon–Fri 09:00–17:00 America/New_York".
func (h workHours) String() string {
	var days []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		if h.days[d] {
			days = append(days, d.String()[:3])
		}
	}
	when := strings.Join(days, ", ")
	if when == "Mon, Tue, Wed, Thu, Fri" {
		when = "Mon–Fri"
	}
	return fmt.Sprintf("%s %02d:%02d–%02d:%02d %s", when, h.start/60, h.start%60, h.end/60, h.end%60, h.loc)
}

func maxOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// hoursWindow is the time whose working hours are compared.
type hoursWindow struct {
	from, to time.Time
	given    bool // the caller's window, rather than the coming week
}

// workingHoursOf is what find_meeting_times learnt of people's working
// hours: the user's address (me) and each person's hours by lower-case
// address; unknown lists those whose hours getSchedule did not give.
type workingHoursOf struct {
	me      string
	hours   map[string]workHours
	unknown []string
	note    string // why nothing, or not the user's, could be checked
}

// scheduleScopes are getSchedule's (get_free_busy's) scopes.
func scheduleScopes() []string { return getFreeBusy.Scopes }

// lookUpWorkingHours asks getSchedule for the working hours of the
// attendees and the user. The user's address comes from /me (User.Read,
// which every sign-in grants): one getSchedule then answers for everyone
// in the same shape. Reading the user's hours from mailboxSettings instead
// would need MailboxSettings.Read, a scope this tool does not otherwise
// want. Failures become a note: the suggestions stand without them.
func lookUpWorkingHours(ctx context.Context, c *Call, attendees []string, win hoursWindow) workingHoursOf {
	out := workingHoursOf{hours: map[string]workHours{}}
	if !c.Granted.HasAny(scheduleScopes()...) {
		out.note = "Working hours not checked: needs " + scheduleScopes()[0] + ", which this connection lacks (get_profile shows how to add it)."
		return out
	}
	emails := slices.Clone(attendees)
	out.me = myAddress(ctx, c)()
	if out.me != "" && !slices.ContainsFunc(emails, func(a string) bool { return strings.EqualFold(a, out.me) }) {
		emails = append(emails, out.me)
	}
	// Only workingHours are read: a short window keeps the answer small.
	schedules, err := getSchedules(ctx, c, emails, win.from, win.from.Add(time.Hour), 60)
	if err != nil {
		if e, ok := nango.AsError(err); ok && e.Kind == nango.KindAccessDenied {
			out.note = "Working hours not checked: needs " + scheduleScopes()[0] + ", which this connection lacks (get_profile shows how to add it)."
		} else {
			out.note = "Working hours not checked: getSchedule failed (" + sourceFailure(err) + ")."
		}
		return out
	}
	for _, s := range schedules {
		if h, ok := parseWorkHours(s.WorkingHours); ok && s.Error == nil {
			out.hours[strings.ToLower(s.ScheduleID)] = h
		}
	}
	for _, a := range attendees {
		if _, ok := out.hours[strings.ToLower(a)]; !ok {
			out.unknown = append(out.unknown, a)
		}
	}
	if out.me == "" {
		out.note = "Your own working hours not checked: reading your address needs User.Read."
	} else if _, ok := out.hours[strings.ToLower(out.me)]; !ok {
		out.note = "Your own working hours are unknown: overlaps with them not checked."
	}
	return out
}

// mark fills a slot's local times and whose hours it falls outside.
func (w workingHoursOf) mark(s *MeetingSlot, start, end time.Time) {
	people := slices.Sorted(maps.Keys(s.Availability))
	if w.me != "" {
		people = append(people, w.me)
	}
	for _, who := range people {
		h, ok := w.hours[strings.ToLower(who)]
		if _, seen := s.local[strings.ToLower(who)]; !ok || seen {
			continue
		}
		if s.LocalTimes == nil {
			s.LocalTimes, s.local = map[string]string{}, map[string]time.Time{}
		}
		t := start.In(h.loc)
		s.LocalTimes[who], s.local[strings.ToLower(who)] = t.Format(time.RFC3339), t
		if !h.within(start, end) {
			s.OutsideHours = append(s.OutsideHours, who)
		}
	}
}

// notes says plainly whose working hours never meet the user's in the
// window, whose are unknown, and what could not be checked.
func (w workingHoursOf) notes(names map[string]string, win hoursWindow) []string {
	var out []string
	if w.note != "" {
		out = append(out, w.note)
	}
	mine, ok := w.hours[strings.ToLower(w.me)]
	from, to := win.from, minOf(win.to, win.from.AddDate(0, 0, 62))
	where := "on any day in the window"
	if !win.given {
		where = "on any day in the coming week"
	}
	var people []string
	for addr := range w.hours {
		if addr != strings.ToLower(w.me) {
			people = append(people, addr)
		}
	}
	slices.Sort(people)
	for _, addr := range people {
		// Only when both work in the window: a weekend has no overlap to miss.
		h := w.hours[addr]
		if ok && len(mine.spans(from, to)) > 0 && len(h.spans(from, to)) > 0 && !h.overlaps(mine, from, to) {
			out = append(out, fmt.Sprintf("%s's working hours (%s) don't overlap yours (%s) %s.", cmp.Or(names[addr], addr), h, mine, where))
		}
	}
	if len(w.unknown) > 0 {
		out = append(out, "Working hours unknown for "+strings.Join(w.unknown, ", ")+" (outside your organization, or not shared): check their local time yourself.")
	}
	return out
}

// shortNames names people in the text by the part of their address
// before @, unless two share it; the user is "you".
func shortNames(me string, attendees []string) map[string]string {
	count := map[string]int{}
	local := func(a string) string { return strings.ToLower(a[:max(strings.LastIndex(a, "@"), 0)]) }
	for _, a := range attendees {
		count[local(a)]++
	}
	out := map[string]string{}
	for _, a := range attendees {
		out[strings.ToLower(a)] = strings.ToLower(a)
		if l := local(a); l != "" && count[l] == 1 {
			out[strings.ToLower(a)] = l
		}
	}
	if me != "" {
		out[strings.ToLower(me)] = "you"
	}
	return out
}
