package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (s *Sim) eventBySubject(t testing.TB, subject string) *event {
	t.Helper()
	return bySubject(t, s.box.events, subject, func(e *event) string { return e.subject })
}

// dayView lists the default calendar's events of one UTC day.
func dayView(t testing.TB, s *Sim, day string) map[string]map[string]any {
	t.Helper()
	r := get(s, "/v1.0/me/calendarView"+q("startDateTime", day+"T00:00:00Z", "endDateTime", day+"T23:59:59Z", "$top", "100"))
	require.Equal(t, 200, r.status, string(r.body))
	out := map[string]map[string]any{}
	for _, e := range r.values(t) {
		out[e["subject"].(string)] = e
	}
	return out
}

func TestCreateEvent(t *testing.T) {
	s := newSim(t)
	body := `{"subject":"Atlas pricing sync","body":{"contentType":"Text","content":"Agenda: tiers"},` +
		`"start":{"dateTime":"2026-11-30T10:00:00","timeZone":"Europe/Berlin"},"end":{"dateTime":"2026-11-30T10:30:00","timeZone":"Europe/Berlin"},` +
		`"location":{"displayName":"Studio 3"},"attendees":[{"emailAddress":{"address":"kenji.watanabe@contoso.com"},"type":"required"},` +
		`{"emailAddress":{"address":"ann.fischer@contoso.com","name":"Ann Fischer"},"type":"optional"}],` +
		`"isOnlineMeeting":true,"onlineMeetingProvider":"teamsForBusiness","reminderMinutesBeforeStart":5}`
	r := proxy(s, "POST", "/v1.0/me/events", body, "Nango-Proxy-Prefer", `IdType="ImmutableId", outlook.timezone="Europe/Berlin"`)
	require.Equal(t, 200, r.status, "Graph's 201 is 200 through Nango, with the body: %s", r.body)
	ev := r.json(t)
	assert.True(t, strings.HasPrefix(ev["id"].(string), "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A"), "immutable id")
	assert.Equal(t, map[string]any{"dateTime": "2026-11-30T10:00:00.0000000", "timeZone": "Europe/Berlin"}, ev["start"])
	assert.Contains(t, ev["onlineMeeting"].(map[string]any)["joinUrl"], "https://teams.microsoft.com/l/meetup-join/")
	assert.Equal(t, "teamsForBusiness", ev["onlineMeetingProvider"])
	assert.Equal(t, true, ev["isOrganizer"])
	assert.EqualValues(t, 5, ev["reminderMinutesBeforeStart"])
	attendees := ev["attendees"].([]any)
	require.Len(t, attendees, 2)
	for _, a := range attendees {
		assert.Equal(t, "none", a.(map[string]any)["status"].(map[string]any)["response"], "invited, not answered")
	}
	assert.Equal(t, "optional", attendees[1].(map[string]any)["type"])

	// It is on the calendar, readable by its id, at 09:00 UTC.
	got := get(s, "/v1.0/me/events/"+ev["id"].(string)).json(t)
	assert.Equal(t, "2026-11-30T09:00:00.0000000", got["start"].(map[string]any)["dateTime"])
	assert.Contains(t, dayView(t, s, "2026-11-30"), "Atlas pricing sync")

	// Another calendar; an all-day event from midnight to midnight.
	team := s.box.calendars[1].id
	r = proxy(s, "POST", "/v1.0/me/calendars/"+team+"/events", `{"subject":"Hack day","isAllDay":true,`+
		`"start":{"dateTime":"2026-12-03T00:00:00","timeZone":"Pacific Standard Time"},"end":{"dateTime":"2026-12-04T00:00:00","timeZone":"Pacific Standard Time"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, true, r.json(t)["isAllDay"])
	assert.Nil(t, r.json(t)["onlineMeeting"])
	r = get(s, "/v1.0/me/calendars/"+team+"/calendarView"+q("startDateTime", "2026-12-03", "endDateTime", "2026-12-04", "$filter", "subject eq 'Hack day'"))
	assert.Len(t, r.values(t), 1)

	start := `"start":{"dateTime":"2026-11-30T10:00:00","timeZone":"UTC"}`
	end := `"end":{"dateTime":"2026-11-30T11:00:00","timeZone":"UTC"}`
	for _, tc := range []struct{ body, code string }{
		{``, "BadRequest"},
		{`{"subject":"x"}`, "ErrorInvalidRequest"},
		{`{"subject":"x",` + start + `,"end":{"dateTime":"2026-11-30T09:00:00","timeZone":"UTC"}}`, "ErrorCalendarEndDateIsEarlierThanStartDate"},
		{`{"subject":"x",` + start + `,"end":{"dateTime":"2026-11-30T11:00:00","timeZone":"Mars/Olympus"}}`, "TimeZoneNotSupportedException"},
		{`{"subject":"x","isAllDay":true,` + start + `,` + end + `}`, "ErrorPropertyValidationFailure"},
		{`{"subject":"x",` + start + `,` + end + `,"attendees":[{"emailAddress":{"address":"kenji"}}]}`, "ErrorInvalidRecipients"},
		{`{"subject":"x",` + start + `,` + end + `,"attendees":[{"emailAddress":{"address":"a@contoso.com"},"type":"mandatory"}]}`, "RequestBodyRead"},
		{`{"subject":"x",` + start + `,` + end + `,"organiser":"me"}`, "RequestBodyRead"},
	} {
		r := proxy(s, "POST", "/v1.0/me/events", tc.body)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}

	s.SetScopes("Calendars.Read")
	assert.Equal(t, "ErrorAccessDenied", proxy(s, "POST", "/v1.0/me/events", `{}`).code(t))
}

func TestCreateEventOnAPersonalAccountHasNoTeamsMeeting(t *testing.T) {
	s := newSim(t, func(o *Options) { o.PersonalAccount = true })
	r := proxy(s, "POST", "/v1.0/me/events", `{"subject":"x","isOnlineMeeting":true,"onlineMeetingProvider":"teamsForBusiness",`+
		`"start":{"dateTime":"2026-11-30T10:00:00","timeZone":"UTC"},"end":{"dateTime":"2026-11-30T11:00:00","timeZone":"UTC"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, false, r.json(t)["isOnlineMeeting"])
	assert.Nil(t, r.json(t)["onlineMeeting"])
}

func TestUpdateEvent(t *testing.T) {
	s := newSim(t)
	lunch := s.eventBySubject(t, "Lunch with Omar (Northwind)")
	r := proxy(s, "PATCH", "/v1.0/me/events/"+lunch.id, `{"subject":"Lunch with Omar","start":{"dateTime":"2026-11-30T12:30:00","timeZone":"UTC"},"end":{"dateTime":"2026-11-30T13:45:00","timeZone":"UTC"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	ev := r.json(t)
	assert.Equal(t, "Lunch with Omar", ev["subject"])
	assert.Equal(t, "2026-11-30T12:30:00.0000000", ev["start"].(map[string]any)["dateTime"])
	assert.Equal(t, "Fourth Coffee, 12 Clerkenwell Road, London", ev["location"].(map[string]any)["displayName"], "what is not sent stays")
	assert.Equal(t, "accepted", ev["attendees"].([]any)[0].(map[string]any)["status"].(map[string]any)["response"])

	// A failed update changes nothing.
	r = proxy(s, "PATCH", "/v1.0/me/events/"+lunch.id, `{"subject":"Brunch","end":{"dateTime":"2026-11-30T08:00:00","timeZone":"UTC"}}`)
	assert.Equal(t, "ErrorCalendarEndDateIsEarlierThanStartDate", r.code(t))
	assert.Equal(t, "Lunch with Omar", lunch.subject)

	// One occurrence of a series moves on its own.
	day := dayView(t, s, "2026-11-30")
	standup := day["Atlas daily stand-up"]
	r = proxy(s, "PATCH", "/v1.0/me/events/"+standup["id"].(string), `{"start":{"dateTime":"2026-11-30T10:00:00","timeZone":"UTC"},"end":{"dateTime":"2026-11-30T10:15:00","timeZone":"UTC"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, standup["id"], r.json(t)["id"], "an occurrence keeps its id")
	assert.Equal(t, "occurrence", r.json(t)["type"])
	assert.Equal(t, "2026-11-30T10:00:00.0000000", dayView(t, s, "2026-11-30")["Atlas daily stand-up"]["start"].(map[string]any)["dateTime"])
	assert.Equal(t, "2026-12-01T09:30:00.0000000", dayView(t, s, "2026-12-01")["Atlas daily stand-up"]["start"].(map[string]any)["dateTime"])

	assert.Equal(t, 404, proxy(s, "PATCH", "/v1.0/me/events/"+strings.Repeat("A", 40), `{"subject":"x"}`).status)
}

func TestCancelEvent(t *testing.T) {
	s := newSim(t)
	// Only the organizer may cancel.
	critique := s.eventBySubject(t, "Design critique: onboarding flow v5")
	r := proxy(s, "POST", "/v1.0/me/events/"+critique.id+"/cancel", `{"comment":"sorry"}`)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "ErrorAccessDenied", r.code(t))
	assert.Contains(t, r.message(t), "organizer")

	review := s.eventBySubject(t, "Q4 roadmap review")
	r = proxy(s, "POST", "/v1.0/me/events/"+review.id+"/cancel", `{"comment":"Moving to January."}`)
	assert.Equal(t, 200, r.status, "202 through Nango: %s", r.body)
	assert.Empty(t, r.body)
	assert.Equal(t, 404, get(s, "/v1.0/me/events/"+review.id).status, "the organizer's copy is gone")
	assert.NotContains(t, dayView(t, s, "2026-11-26"), "Q4 roadmap review")
	assert.Equal(t, "RequestBodyRead", proxy(s, "POST", "/v1.0/me/events/"+critique.id+"/cancel", `{"reason":"x"}`).code(t))
}

func TestRespondToEvent(t *testing.T) {
	s := newSim(t)
	readiness := s.eventBySubject(t, "Atlas launch readiness review")
	assert.Equal(t, "notResponded", readiness.response)
	r := proxy(s, "POST", "/v1.0/me/events/"+readiness.id+"/tentativelyAccept", `{"comment":"May be late","sendResponse":true}`)
	assert.Equal(t, 200, r.status, string(r.body))
	ev := get(s, "/v1.0/me/events/"+readiness.id).json(t)
	assert.Equal(t, "tentativelyAccepted", ev["responseStatus"].(map[string]any)["response"])
	assert.Equal(t, "tentative", ev["showAs"])

	// The organizer cannot answer their own meeting.
	r = proxy(s, "POST", "/v1.0/me/events/"+s.eventBySubject(t, "Q4 roadmap review").id+"/accept", `{}`)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "ErrorInvalidRequest", r.code(t))

	// Declining one occurrence takes only that one off the calendar.
	standup := dayView(t, s, "2026-11-30")["Atlas daily stand-up"]
	r = proxy(s, "POST", "/v1.0/me/events/"+standup["id"].(string)+"/decline", `{"sendResponse":false}`)
	assert.Equal(t, 200, r.status, string(r.body))
	assert.NotContains(t, dayView(t, s, "2026-11-30"), "Atlas daily stand-up")
	assert.Contains(t, dayView(t, s, "2026-12-01"), "Atlas daily stand-up")
	assert.Equal(t, 404, get(s, "/v1.0/me/events/"+standup["id"].(string)).status)
}

func TestGetSchedule(t *testing.T) {
	s := newSim(t)
	body := `{"schedules":["priya.raman@contoso.com","kenji.watanabe@contoso.com","elena.petrova@fabrikam.com"],` +
		`"startTime":{"dateTime":"2026-11-26T08:00:00","timeZone":"UTC"},"endTime":{"dateTime":"2026-11-26T18:00:00","timeZone":"UTC"},"availabilityViewInterval":60}`
	r := proxy(s, "POST", "/v1.0/me/calendar/getSchedule", body, "Nango-Proxy-Prefer", `outlook.timezone="Europe/London"`)
	require.Equal(t, 200, r.status, string(r.body))
	list := r.values(t)
	require.Len(t, list, 3)

	me := list[0]
	assert.Equal(t, "priya.raman@contoso.com", me["scheduleId"])
	// 08-09 free, 09-10 stand-up, 16-17 roadmap review.
	assert.Equal(t, "0200000020", me["availabilityView"])
	assert.Equal(t, "09:00:00.0000000", me["workingHours"].(map[string]any)["startTime"])

	kenji := list[1]
	assert.Equal(t, "0220022020", kenji["availabilityView"], "stand-up, incident review, handover + interview, roadmap review")
	items := kenji["scheduleItems"].([]any)
	var subjects []string
	for _, it := range items {
		subjects = append(subjects, it.(map[string]any)["subject"].(string))
	}
	assert.Equal(t, []string{"Atlas daily stand-up", "Atlas incident review", "Platform on-call handover", "Interview: senior backend engineer", "Q4 roadmap review"}, subjects)
	assert.Equal(t, map[string]any{"dateTime": "2026-11-26T10:00:00.0000000", "timeZone": "Europe/London"}, items[1].(map[string]any)["start"])
	assert.Equal(t, "GMT Standard Time", kenji["workingHours"].(map[string]any)["timeZone"].(map[string]any)["name"])

	assert.Equal(t, "5009", list[2]["error"].(map[string]any)["responseCode"], "outside the organization")

	// Someone else's private appointment shows its time only.
	r = proxy(s, "POST", "/v1.0/me/calendar/getSchedule", `{"schedules":["kenji.watanabe@contoso.com"],`+
		`"startTime":{"dateTime":"2026-11-27T08:00:00","timeZone":"UTC"},"endTime":{"dateTime":"2026-11-27T09:30:00","timeZone":"UTC"}}`)
	items = r.values(t)[0]["scheduleItems"].([]any)
	require.NotEmpty(t, items)
	assert.Equal(t, true, items[0].(map[string]any)["isPrivate"])
	assert.NotContains(t, items[0], "subject")

	for _, tc := range []struct{ body, code string }{
		{`{"schedules":[]}`, "ErrorInvalidParameter"},
		{`{"schedules":["a@contoso.com"],"startTime":{"dateTime":"2026-11-26T08:00:00","timeZone":"UTC"}}`, "ErrorInvalidParameter"},
		{strings.Replace(body, `"availabilityViewInterval":60`, `"availabilityViewInterval":2`, 1), "ErrorInvalidParameter"},
		{strings.Replace(body, `"schedules"`, `"emails"`, 1), "RequestBodyRead"},
	} {
		r := proxy(s, "POST", "/v1.0/me/calendar/getSchedule", tc.body)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}

	s.SetScopes("Calendars.ReadBasic")
	assert.Equal(t, 403, proxy(s, "POST", "/v1.0/me/calendar/getSchedule", body).status)

	personal := newSim(t, func(o *Options) { o.PersonalAccount = true })
	r = proxy(personal, "POST", "/v1.0/me/calendar/getSchedule", body)
	assert.Equal(t, 403, r.status, "work or school accounts only")
	assert.Equal(t, "ErrorAccessDenied", r.code(t))
}

func TestFindMeetingTimes(t *testing.T) {
	s := newSim(t)
	find := func(attendees, from, to string, extra ...string) map[string]any {
		t.Helper()
		var list []string
		for _, a := range strings.Split(attendees, ",") {
			list = append(list, `{"type":"required","emailAddress":{"address":"`+a+`"}}`)
		}
		body := `{"attendees":[` + strings.Join(list, ",") + `],"meetingDuration":"PT1H","returnSuggestionReasons":true,` +
			`"timeConstraint":{"activityDomain":"work","timeSlots":[{"start":{"dateTime":"` + from + `","timeZone":"UTC"},"end":{"dateTime":"` + to + `","timeZone":"UTC"}}]}` +
			strings.Join(extra, "") + `}`
		r := proxy(s, "POST", "/v1.0/me/findMeetingTimes", body)
		require.Equal(t, 200, r.status, string(r.body))
		return r.json(t)
	}
	res := find("kenji.watanabe@contoso.com,daniel.obrien@contoso.com", "2026-11-26T08:00:00", "2026-11-26T18:00:00", `,"maxCandidates":3`)
	assert.Equal(t, "", res["emptySuggestionsReason"])
	list := res["meetingTimeSuggestions"].([]any)
	require.Len(t, list, 3)
	first := list[0].(map[string]any)
	assert.EqualValues(t, 100, first["confidence"])
	assert.Equal(t, "free", first["organizerAvailability"])
	// Priya works from 09:00; Kenji is busy 09:30-11:00, Daniel 11:00-12:30: the earliest common free hour is 12:30.
	assert.Equal(t, "2026-11-26T12:30:00.0000000", first["meetingTimeSlot"].(map[string]any)["start"].(map[string]any)["dateTime"])
	assert.Len(t, first["attendeeAvailability"], 2)
	assert.NotEmpty(t, first["suggestionReason"])

	// Hannah is on leave: nobody's fault but hers.
	res = find("hannah.lindqvist@contoso.com", "2026-11-26T08:00:00", "2026-11-27T18:00:00")
	assert.Empty(t, res["meetingTimeSuggestions"])
	assert.Equal(t, "attendeesUnavailable", res["emptySuggestionsReason"])

	// Outside the organization: unknown, just below the default 50% threshold.
	res = find("elena.petrova@fabrikam.com", "2026-11-26T08:00:00", "2026-11-26T18:00:00")
	assert.Equal(t, "attendeesUnavailableOrUnknown", res["emptySuggestionsReason"])
	res = find("elena.petrova@fabrikam.com", "2026-11-26T08:00:00", "2026-11-26T18:00:00", `,"minimumAttendeePercentage":40`)
	require.NotEmpty(t, res["meetingTimeSuggestions"])
	assert.EqualValues(t, 49, res["meetingTimeSuggestions"].([]any)[0].(map[string]any)["confidence"])

	// A weekend has no working hours.
	res = find("kenji.watanabe@contoso.com", "2026-11-28T08:00:00", "2026-11-29T18:00:00")
	assert.Equal(t, "organizerUnavailable", res["emptySuggestionsReason"])

	r := proxy(s, "POST", "/v1.0/me/findMeetingTimes", `{"meetingDuration":"one hour"}`)
	assert.Equal(t, "RequestBodyRead", r.code(t))

	// Calendars.ReadWrite does not grant the .Shared scopes it needs.
	s.SetScopes("Calendars.ReadWrite")
	assert.Equal(t, 403, proxy(s, "POST", "/v1.0/me/findMeetingTimes", `{}`).status)
	s.SetScopes("Calendars.Read.Shared")
	assert.Equal(t, 200, proxy(s, "POST", "/v1.0/me/findMeetingTimes", `{}`).status)

	personal := newSim(t, func(o *Options) { o.PersonalAccount = true })
	assert.Equal(t, "ErrorAccessDenied", proxy(personal, "POST", "/v1.0/me/findMeetingTimes", `{}`).code(t))
}
