package tools

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListEventsInATimeZone(t *testing.T) {
	h := newHarness(t)
	var res ListEventsResult
	text := h.ok("list_events", map[string]any{"start": "2026-11-23", "end": "2026-11-29", "time_zone": "America/New_York"}, &res)

	req := h.lastGraph("/v1.0/me/calendarView")
	assert.Equal(t, "2026-11-23T00:00:00-05:00", req.Query.Get("startDateTime"), "a date is midnight in time_zone")
	assert.Equal(t, "2026-11-30T00:00:00-05:00", req.Query.Get("endDateTime"), "an end date includes that whole day")
	assert.Equal(t, `IdType="ImmutableId", outlook.timezone="America/New_York"`, req.Header.Get("Prefer"), "ids that survive a move to another calendar")
	assert.Equal(t, "start/dateTime", req.Query.Get("$orderby"))
	assert.NotEmpty(t, req.Query.Get("$select"))

	require.NotEmpty(t, res.Events)
	assert.Equal(t, "America/New_York", res.TimeZone)
	online := false
	for i, e := range res.Events {
		if !e.IsAllDay {
			start, err := time.Parse(time.RFC3339, e.Start)
			require.NoError(t, err, e.Start)
			_, offset := start.Zone()
			assert.Equal(t, -5*3600, offset, "times carry the zone's offset: %s", e.Start)
		}
		if i > 0 && !e.IsAllDay && !res.Events[i-1].IsAllDay {
			assert.LessOrEqual(t, res.Events[i-1].Start, e.Start, "start order")
		}
		assert.Empty(t, e.JoinURL, "a list leaves join URLs to get_event")
		online = online || e.IsOnlineMeeting
	}
	assert.True(t, online, "the sample week has a Teams meeting")
	assert.Contains(t, text, "events (America/New_York):")
	assert.Contains(t, text, "Mon 23 Nov 2026 04:30–04:45 Atlas daily stand-up @ Teams", "compact wall-clock times in the zone")
}

func TestListEventsExpandsRecurringMeetings(t *testing.T) {
	h := newHarness(t)
	var res ListEventsResult
	h.ok("list_events", map[string]any{"start": "2026-11-23T00:00:00Z", "end": "2026-12-07T00:00:00Z", "limit": 100}, &res)
	subjects := map[string]int{}
	for _, e := range res.Events {
		subjects[e.Subject]++
	}
	repeated := 0
	for _, n := range subjects {
		if n > 1 {
			repeated++
		}
	}
	assert.Positive(t, repeated, "a series shows as several occurrences: %v", subjects)
}

func TestListEventsPages(t *testing.T) {
	h := newHarness(t)
	var first, second ListEventsResult
	args := map[string]any{"start": "2026-11-16", "end": "2026-12-13", "limit": 2}
	h.ok("list_events", args, &first)
	require.Len(t, first.Events, 2)
	require.NotEmpty(t, first.NextCursor)
	args["cursor"] = first.NextCursor
	h.ok("list_events", args, &second)
	require.NotEmpty(t, second.Events)
	assert.NotEqual(t, first.Events[0].ID, second.Events[0].ID)
}

func TestListEventsRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"end": "2026-11-26"}, `"start": is required`},
		{map[string]any{"start": "2026-11-26"}, `"end": is required`},
		{map[string]any{"start": "2026-11-26", "end": "2026-11-25"}, `"end": must be after start`},
		{map[string]any{"start": "2026-11-26T10:00:00Z", "end": "2026-11-26T10:00:00Z"}, `"end": must be after start`},
		{map[string]any{"start": "next monday", "end": "2026-11-25"}, `"start"`},
		{map[string]any{"start": "2026-11-25", "end": "2026-11-26", "time_zone": "Pacific Time"}, `"time_zone"`},
		{map[string]any{"start": "2026-11-25", "end": "2026-11-26", "time_zone": "Mars/Olympus"}, `"time_zone"`},
		{map[string]any{"start": "2026-11-25", "end": "2026-11-26", "limit": 101}, `"limit"`},
	} {
		assert.Contains(t, h.fails("list_events", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/calendar"))
}

func TestListEventsOfAnotherCalendarEscapesItsID(t *testing.T) {
	h := newHarness(t)
	msg := h.fails("list_events", map[string]any{"start": "2026-11-25", "end": "2026-11-26", "calendar_id": "x/../../events"})
	assert.Contains(t, msg, `Invalid argument "calendar_id"`)
	assert.Empty(t, h.graph("/"))
	msg = h.fails("list_events", map[string]any{"start": "2026-11-25", "end": "2026-11-26", "calendar_id": "AAMk/x="})
	assert.Contains(t, msg, "Not found")
	r := h.lastGraph("/v1.0/me/calendars/")
	assert.True(t, strings.HasPrefix(r.RawPath, "/v1.0/me/calendars/AAMk%2Fx=/calendarView"), r.RawPath)
}

func TestListEventsTakesTheMailboxsWindowsZoneName(t *testing.T) {
	h := newHarness(t)
	var settings MailboxSettingsResult
	h.ok("get_mailbox_settings", nil, &settings)
	require.Equal(t, "GMT Standard Time", settings.TimeZone, "Outlook reports Windows zone names")

	var res ListEventsResult
	h.ok("list_events", map[string]any{"start": "2026-11-23", "end": "2026-11-27", "time_zone": settings.TimeZone}, &res)
	assert.Contains(t, h.lastGraph("/v1.0/me/calendarView").Header.Get("Prefer"), `outlook.timezone="GMT Standard Time"`)
	assert.Equal(t, "2026-11-23T00:00:00Z", h.lastGraph("/v1.0/me/calendarView").Query.Get("startDateTime"), "London is on UTC in November")
	require.NotEmpty(t, res.Events)
	_, err := time.Parse(time.RFC3339, res.Events[0].Start)
	assert.NoError(t, err, "times carry an offset: %s", res.Events[0].Start)
}

func TestListEventsShowsAnEventsSpanFromInsideIt(t *testing.T) {
	h := newHarness(t)
	var res ListEventsResult
	text := h.ok("list_events", map[string]any{"start": "2026-12-03", "end": "2026-12-03"}, &res)
	require.NotEmpty(t, res.Events)
	assert.Equal(t, "2026-12-02", res.Events[0].Start, "an event begun before the window is listed from its own start")
	assert.Contains(t, text, "1. Wed 2 Dec 2026 – Thu 3 Dec all day Out of office – DevSummit San Francisco [oof]", "the whole span, not the first day")
}

func TestListEventsShowsShowAsAndTheUsersResponse(t *testing.T) {
	h := newHarness(t)
	var res ListEventsResult
	text := h.ok("list_events", map[string]any{"start": "2026-11-23", "end": "2026-12-04"}, &res)
	assert.Contains(t, h.lastGraph("/v1.0/me/calendarView").Query.Get("$select"), "responseStatus,isOrganizer")

	line := func(subject string) string {
		for l := range strings.SplitSeq(text, "\n") {
			if strings.Contains(l, subject) {
				return l
			}
		}
		t.Fatalf("no line for %q in:\n%s", subject, text)
		return ""
	}
	assert.Contains(t, line("Dentist"), "Dentist [oof] @", "out of office")
	assert.Contains(t, line("DevSummit"), "DevSummit San Francisco [oof] @")
	assert.Contains(t, line("Atlas launch readiness review"), "review [not answered] @", "invited, not yet answered")
	assert.Contains(t, line("Fabrikam renewal"), "pricing call [tentatively accepted] @")
	assert.Contains(t, line("Budget sync"), "Budget sync [cancelled] @", "cancelled says enough")
	assert.NotContains(t, line("Q4 roadmap review"), "[", "busy and organized by the user: nothing to say")

	mine := map[string]string{}
	for _, e := range res.Events {
		mine[e.Subject] = e.MyResponse
	}
	assert.Equal(t, "notResponded", mine["Atlas launch readiness review"])
	assert.Equal(t, "organizer", mine["Q4 roadmap review"])
	assert.Equal(t, "tentativelyAccepted", mine["Fabrikam renewal – pricing call"])
}

func TestEventStatusLabels(t *testing.T) {
	for _, c := range []struct {
		showAs, response, want string
	}{
		{"busy", "organizer", ""},
		{"busy", "accepted", ""},
		{"free", "organizer", " [free]"},
		{"workingElsewhere", "accepted", " [elsewhere]"},
		{"tentative", "none", " [tentative] [not answered]"},
		{"tentative", "tentativelyAccepted", " [tentatively accepted]"},
		{"free", "declined", " [free] [declined]"},
		{"oof", "organizer", " [oof]"},
		{"unknown", "", ""},
	} {
		assert.Equal(t, c.want, Event{ShowAs: c.showAs, MyResponse: c.response}.status(), "%s/%s", c.showAs, c.response)
	}
	assert.Equal(t, " [cancelled]", Event{ShowAs: "free", MyResponse: "none", IsCancelled: true}.status())
}
