package tools

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

func TestGetFreeBusyMergesIntervals(t *testing.T) {
	h := newHarness(t)
	var res FreeBusyResult
	text := h.ok("get_free_busy", map[string]any{
		"emails": []string{"kenji.watanabe@contoso.com", "Priya Raman <priya.raman@contoso.com>", "elena.petrova@fabrikam.com"},
		"start":  "2026-11-26T08:00:00Z", "end": "2026-11-26T18:00:00Z",
	}, &res)

	req := h.lastGraph("/v1.0/me/calendar/getSchedule")
	assert.Equal(t, "POST", req.Method)
	assert.JSONEq(t, `{"schedules": ["kenji.watanabe@contoso.com", "priya.raman@contoso.com", "elena.petrova@fabrikam.com"],
		"startTime": {"dateTime": "2026-11-26T08:00:00", "timeZone": "UTC"},
		"endTime": {"dateTime": "2026-11-26T18:00:00", "timeZone": "UTC"},
		"availabilityViewInterval": 30}`, string(req.Body))

	require.Len(t, res.Schedules, 3)
	kenji := res.Schedules[0]
	assert.Equal(t, []BusyInterval{
		{Start: "2026-11-26T09:30:00Z", End: "2026-11-26T09:45:00Z", Status: "busy", Subject: "Atlas daily stand-up"},
		{Start: "2026-11-26T10:00:00Z", End: "2026-11-26T11:00:00Z", Status: "busy", Subject: "Atlas incident review"},
		{Start: "2026-11-26T13:30:00Z", End: "2026-11-26T15:00:00Z", Status: "busy", Subject: "Platform on-call handover; Interview: senior backend engineer"},
		{Start: "2026-11-26T16:00:00Z", End: "2026-11-26T17:00:00Z", Status: "busy", Subject: "Q4 roadmap review"},
	}, kenji.Busy, "touching items of one status merge")
	assert.Equal(t, "monday, tuesday, wednesday, thursday, friday 08:30–17:00 (GMT Standard Time)", kenji.WorkingHours)
	assert.NotEmpty(t, res.Schedules[1].Busy)
	assert.Contains(t, res.Schedules[2].Error, "Unable to resolve")
	assert.Empty(t, res.Schedules[2].Busy)
	assert.Contains(t, text, "\n  13:30–15:00 busy: Platform on-call handover; Interview")
	assert.Contains(t, text, "elena.petrova@fabrikam.com: unknown")
	assert.NotContains(t, text, "0220022020", "no availability digits")
}

func TestGetFreeBusyUsesTheOffsetOfStart(t *testing.T) {
	h := newHarness(t)
	var res FreeBusyResult
	h.ok("get_free_busy", map[string]any{"emails": []string{"sofia.martinez@contoso.com"},
		"start": "2026-11-26T09:00:00+01:00", "end": "2026-11-26T18:00:00+01:00", "interval_minutes": 60}, &res)
	assert.Contains(t, string(h.lastGraph("/v1.0/me/calendar/getSchedule").Body), `"startTime":{"dateTime":"2026-11-26T08:00:00","timeZone":"UTC"}`)
	assert.Equal(t, "2026-11-26T09:00:00+01:00", res.Start)
	require.NotEmpty(t, res.Schedules[0].Busy)
	first := res.Schedules[0].Busy[0]
	assert.Equal(t, "2026-11-26T10:00:00+01:00", first.Start, "Sofia's billing review, 09:00 UTC")
	assert.Equal(t, "busy", first.Status)
	var tentative bool
	for _, iv := range res.Schedules[0].Busy {
		tentative = tentative || iv.Status == "tentative"
	}
	assert.True(t, tentative, "tentative intervals are kept apart: %+v", res.Schedules[0].Busy)
}

func TestGetFreeBusyRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@contoso.com", i)
	}
	ok := map[string]any{"emails": []string{"kenji.watanabe@contoso.com"}, "start": "2026-11-26", "end": "2026-11-27"}
	with := func(k string, v any) map[string]any {
		args := map[string]any{}
		for key, val := range ok {
			args[key] = val
		}
		args[k] = v
		return args
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{with("emails", []string{}), `"emails": is required`},
		{with("emails", []string{"kenji"}), `"emails": "kenji" is not an email address`},
		{with("emails", many), `"emails": at most 20 addresses`},
		{with("end", "2026-11-25"), `"end": must be after start`},
		{with("start", "thursday"), `"start"`},
		{with("interval_minutes", 2), `"interval_minutes": must be between 5 and 1440`},
		{with("interval_minutes", 2000), `"interval_minutes"`},
	} {
		assert.Contains(t, h.fails("get_free_busy", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/calendar"))
}

func TestFindMeetingTimes(t *testing.T) {
	h := newHarness(t)
	var res MeetingTimesResult
	text := h.ok("find_meeting_times", map[string]any{
		"attendees": []string{"kenji.watanabe@contoso.com", "daniel.obrien@contoso.com"}, "duration_minutes": 60,
		"start": "2026-11-26T08:00:00Z", "end": "2026-11-26T18:00:00Z", "max_candidates": 3,
	}, &res)

	req := h.lastGraph("/v1.0/me/findMeetingTimes")
	assert.Equal(t, "POST", req.Method)
	assert.JSONEq(t, `{"attendees": [
			{"type": "required", "emailAddress": {"address": "kenji.watanabe@contoso.com"}},
			{"type": "required", "emailAddress": {"address": "daniel.obrien@contoso.com"}}],
		"timeConstraint": {"activityDomain": "work", "timeSlots": [{
			"start": {"dateTime": "2026-11-26T08:00:00", "timeZone": "UTC"},
			"end": {"dateTime": "2026-11-26T18:00:00", "timeZone": "UTC"}}]},
		"meetingDuration": "PT60M", "maxCandidates": 3, "returnSuggestionReasons": true}`, string(req.Body))

	require.Len(t, res.Suggestions, 3)
	first := res.Suggestions[0]
	assert.Equal(t, "2026-11-26T12:30:00Z", first.Start, "the earliest hour the three share")
	assert.Equal(t, "2026-11-26T13:30:00Z", first.End)
	assert.EqualValues(t, 100, first.Confidence)
	assert.Equal(t, map[string]string{"kenji.watanabe@contoso.com": "free", "daniel.obrien@contoso.com": "free"}, first.Availability)
	assert.Contains(t, text, "best first (UTC):\n1. Thu 26 Nov 2026 12:30–13:30, confidence 100%; everyone free")
}

func TestFindMeetingTimesExplainsNoSuggestions(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		who, start, end, want string
	}{
		{"hannah.lindqvist@contoso.com", "2026-11-26", "2026-11-27", "too few of them are free"},
		{"elena.petrova@fabrikam.com", "2026-11-26", "2026-11-26", "availability is unknown"},
		{"kenji.watanabe@contoso.com", "2026-11-28", "2026-11-29", "You are not free within your working hours"},
	} {
		var res MeetingTimesResult
		text := h.ok("find_meeting_times", map[string]any{"attendees": []string{tc.who}, "duration_minutes": 30, "start": tc.start, "end": tc.end}, &res)
		assert.Empty(t, res.Suggestions, tc.who)
		assert.Contains(t, res.Reason, tc.want, tc.who)
		assert.Contains(t, text, "No meeting times found. "+res.Reason)
	}
}

func TestFindMeetingTimesWithoutAWindowLeavesItToOutlook(t *testing.T) {
	h := newHarness(t)
	var res MeetingTimesResult
	h.ok("find_meeting_times", map[string]any{"attendees": []string{"marcus.chen@contoso.com"}, "duration_minutes": 30}, &res)
	assert.NotContains(t, string(h.lastGraph("/v1.0/me/findMeetingTimes").Body), "timeConstraint")
	assert.Len(t, res.Suggestions, 5, "max_candidates defaults to 5")
}

func TestFindMeetingTimesRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"attendees": []string{"a@contoso.com"}, "duration_minutes": 0}, `"duration_minutes": must be between 1 and 1440, not 0`},
		{map[string]any{"attendees": []string{"a@contoso.com"}, "duration_minutes": -30}, `"duration_minutes": must be between 1 and 1440`},
		{map[string]any{"attendees": []string{"a@contoso.com"}, "duration_minutes": 30, "start": "2026-11-26"}, `"end": is required with start`},
		{map[string]any{"attendees": []string{"a@contoso.com"}, "duration_minutes": 120, "start": "2026-11-26T10:00:00Z", "end": "2026-11-26T11:00:00Z"}, `"duration_minutes": is longer than the window`},
		{map[string]any{"attendees": []string{"not an address"}, "duration_minutes": 30}, `"attendees"`},
		{map[string]any{"attendees": []string{"a@contoso.com"}, "duration_minutes": 30, "max_candidates": 50}, `"max_candidates"`},
	} {
		assert.Contains(t, h.fails("find_meeting_times", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/findMeetingTimes"))
}

func TestSchedulingOnAPersonalAccountIsExplained(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.PersonalAccount = true }))
	msg := h.fails("get_free_busy", map[string]any{"emails": []string{"kenji.watanabe@contoso.com"}, "start": "2026-11-26", "end": "2026-11-27"})
	assert.Contains(t, msg, "get_free_busy works only for work or school (Microsoft 365) accounts")
	assert.Contains(t, msg, "personal Microsoft accounts")
	msg = h.fails("find_meeting_times", map[string]any{"attendees": []string{"kenji.watanabe@contoso.com"}, "duration_minutes": 30})
	assert.Contains(t, msg, "find_meeting_times works only for work or school")
	assert.NotContains(t, msg, "needs the Microsoft Graph delegated permission", "the scopes are granted: the account is the cause")
}

func TestFindMeetingTimesNeedsASharedCalendarsScope(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Calendars.ReadWrite", "offline_access"))
	msg := h.fails("find_meeting_times", map[string]any{"attendees": []string{"kenji.watanabe@contoso.com"}, "duration_minutes": 30})
	assert.Contains(t, msg, "needs the Microsoft Graph delegated permission Calendars.Read.Shared (or any of Calendars.ReadWrite.Shared)")
	assert.Empty(t, h.graph("/v1.0/me/findMeetingTimes"))
}
