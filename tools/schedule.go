package tools

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
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
		var res graphPage[graphSchedule]
		err = schedulePost(ctx, c, "/me/calendar/getSchedule", map[string]any{
			"schedules":                emails,
			"startTime":                graphDateTime(from, time.UTC, "UTC"),
			"endTime":                  graphDateTime(to, time.UTC, "UTC"),
			"availabilityViewInterval": interval,
		}, &res)
		if err != nil {
			return nil, err
		}
		loc := from.Location()
		out := &FreeBusyResult{Start: from.Format(time.RFC3339), End: to.In(loc).Format(time.RFC3339), Schedules: []PersonSchedule{}}
		for _, s := range res.Value {
			out.Schedules = append(out.Schedules, s.person(from, time.Duration(interval)*time.Minute, loc))
		}
		return out, nil
	}))

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
}

type MeetingTimesResult struct {
	Suggestions []MeetingSlot `json:"suggestions"`
	Reason      string        `json:"reason,omitempty" jsonschema_description:"Why there is none."`
}

var findMeetingTimes = workOrSchoolOnly(define("find_meeting_times", "Find meeting times",
	"Suggest times when the user and the attendees are free for a meeting of duration_minutes, within working hours, best first, with each attendee's availability. Work or school accounts only. Book one with create_event.",
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
		body := map[string]any{
			"attendees":               []map[string]any{},
			"meetingDuration":         fmt.Sprintf("PT%dM", in.DurationMinutes),
			"maxCandidates":           maxCandidates,
			"returnSuggestionReasons": true,
		}
		list := body["attendees"].([]map[string]any)
		for _, a := range attendees {
			list = append(list, map[string]any{"type": "required", "emailAddress": map[string]string{"address": a}})
		}
		body["attendees"] = list
		loc := time.UTC
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
			body["timeConstraint"] = map[string]any{"activityDomain": "work", "timeSlots": []map[string]any{{
				"start": graphDateTime(from, time.UTC, "UTC"), "end": graphDateTime(to, time.UTC, "UTC"),
			}}}
		case in.Start != "":
			return nil, argError("end", "is required with start")
		case in.End != "":
			return nil, argError("start", "is required with end")
		}
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
			return nil, err
		}
		out := &MeetingTimesResult{Suggestions: []MeetingSlot{}}
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
			out.Suggestions = append(out.Suggestions, slot)
		}
		if len(out.Suggestions) == 0 {
			out.Reason = emptySuggestionsReason(res.EmptySuggestionsReason)
		}
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

func (r *MeetingTimesResult) Text() string {
	if len(r.Suggestions) == 0 {
		return "No meeting times found. " + r.Reason
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d suggested times, best first (%s):", len(r.Suggestions), offsetOf(r.Suggestions[0].Start))
	var times listTimes
	for i, s := range r.Suggestions {
		fmt.Fprintf(&b, "\n%d. %s, confidence %.0f%%", i+1, times.span(s.Start, s.End, false), s.Confidence)
		var notFree []string
		for who, a := range s.Availability {
			if a != "free" {
				notFree = append(notFree, who+" "+a)
			}
		}
		slices.Sort(notFree)
		if len(notFree) > 0 {
			b.WriteString("; " + strings.Join(notFree, ", "))
		} else {
			b.WriteString("; everyone free")
		}
	}
	return b.String()
}
