package tools

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// eventID finds an event by subject in list_events of a window.
func eventID(h *harness, subject, start, end string) string {
	h.t.Helper()
	args := map[string]any{"start": start, "end": end, "limit": 100}
	for range 20 { // the response budget may page where limit would not
		var res ListEventsResult
		h.ok("list_events", args, &res)
		for _, e := range res.Events {
			if e.Subject == subject {
				return e.ID
			}
		}
		if res.NextCursor == "" {
			break
		}
		args["cursor"] = res.NextCursor
	}
	h.t.Fatalf("no %q between %s and %s", subject, start, end)
	return ""
}

func (h *harness) posts(prefix string) []sim.Request {
	var out []sim.Request
	for _, r := range h.graph(prefix) {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

func TestCreateEventInvitesAndShowsInTheCalendar(t *testing.T) {
	h := newHarness(t)
	var res SavedEvent
	text := h.ok("create_event", map[string]any{
		"subject": "Atlas pricing sync", "start": "2026-11-30T10:00", "end": "2026-11-30T10:30", "time_zone": "Europe/Berlin",
		"attendees": []map[string]any{{"address": "Kenji Watanabe <kenji.watanabe@contoso.com>"}, {"address": "ann.fischer@contoso.com", "type": "optional"}},
		"location":  "Studio 3", "body": "Agenda: tiers",
		"is_online_meeting": true, "reminder_minutes": 5,
	}, &res)

	req := h.lastGraph("/v1.0/me/events")
	assert.Equal(t, http.MethodPost, req.Method)
	assert.JSONEq(t, `{
		"subject": "Atlas pricing sync",
		"start": {"dateTime": "2026-11-30T10:00:00", "timeZone": "Europe/Berlin"},
		"end": {"dateTime": "2026-11-30T10:30:00", "timeZone": "Europe/Berlin"},
		"attendees": [
			{"emailAddress": {"name": "Kenji Watanabe", "address": "kenji.watanabe@contoso.com"}, "type": "required"},
			{"emailAddress": {"name": "", "address": "ann.fischer@contoso.com"}, "type": "optional"}],
		"location": {"displayName": "Studio 3"},
		"body": {"contentType": "Text", "content": "Agenda: tiers"},
		"isOnlineMeeting": true, "onlineMeetingProvider": "teamsForBusiness",
		"isReminderOn": true, "reminderMinutesBeforeStart": 5}`, string(req.Body))
	assert.Contains(t, req.Header.Get("Prefer"), `IdType="ImmutableId"`)
	assert.Contains(t, req.Header.Get("Prefer"), `outlook.timezone="Europe/Berlin"`)

	assert.Equal(t, "created", res.Status)
	assert.Equal(t, "2026-11-30T10:00:00+01:00", res.Start)
	assert.True(t, res.Notified)
	assert.Len(t, res.Attendees, 2)
	require.NotEmpty(t, res.JoinURL)
	assert.Contains(t, text, "Invitations go to: Kenji Watanabe <kenji.watanabe@contoso.com>, ann.fischer@contoso.com")
	assert.Contains(t, text, "Join: https://teams.microsoft.com/")

	// It is on the calendar as an online meeting, under the id create_event gave.
	var list ListEventsResult
	h.ok("list_events", map[string]any{"start": "2026-11-30", "end": "2026-11-30", "time_zone": "Europe/Berlin", "limit": 100}, &list)
	var found *Event
	for i, e := range list.Events {
		if e.ID == res.ID {
			found = &list.Events[i]
		}
	}
	require.NotNil(t, found, "the created event is listed under its id")
	assert.True(t, found.IsOnlineMeeting, "listed as online (get_event has the join URL)")
	assert.Equal(t, "Studio 3", found.Location)
}

func TestCreateAllDayEventRunsMidnightToMidnight(t *testing.T) {
	h := newHarness(t)
	var res SavedEvent
	h.ok("create_event", map[string]any{"subject": "Hack days", "start": "2026-12-03", "end": "2026-12-04", "time_zone": "Europe/London",
		"calendar_id": "AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAADDx0pZ3Wt1vTqG8kY2bN4QhBwBCk7Hq2yR9uS5aT0dLmVw3xAAAAAAEGAABCk7Hq2yR9uS5aT0dLmVw3xAAAAAHbAAAA="}, &res)
	req := h.lastGraph("/v1.0/me/calendars/")
	assert.Equal(t, "/v1.0/me/calendars/AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAADDx0pZ3Wt1vTqG8kY2bN4QhBwBCk7Hq2yR9uS5aT0dLmVw3xAAAAAAEGAABCk7Hq2yR9uS5aT0dLmVw3xAAAAAHbAAAA=/events", req.Path)
	assert.JSONEq(t, `{"subject": "Hack days", "isAllDay": true,
		"start": {"dateTime": "2026-12-03T00:00:00", "timeZone": "Europe/London"},
		"end": {"dateTime": "2026-12-05T00:00:00", "timeZone": "Europe/London"}}`, string(req.Body), "the end date is the last day")
	assert.Equal(t, "2026-12-03", res.Start)
	assert.False(t, res.Notified, "no attendees")
}

func TestCreateEventRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	base := func(extra map[string]any) map[string]any {
		args := map[string]any{"subject": "x", "start": "2026-11-30T10:00", "end": "2026-11-30T11:00"}
		for k, v := range extra {
			args[k] = v
		}
		return args
	}
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"start": "2026-11-30T10:00", "end": "2026-11-30T11:00"}, `"subject": is required`},
		{base(map[string]any{"subject": "  "}), `"subject": is required`},
		{base(map[string]any{"end": "2026-11-30T09:00"}), `"end": must be after start`},
		{base(map[string]any{"end": "2026-11-30T10:00"}), `"end": must be after start`},
		{base(map[string]any{"start": "tomorrow"}), `"start"`},
		{base(map[string]any{"time_zone": "Pacific Time"}), `"time_zone"`},
		{base(map[string]any{"attendees": []map[string]any{{"address": "kenji"}}}), `"attendees": "kenji" is not an email address`},
		{base(map[string]any{"attendees": []map[string]any{{"address": "a@contoso.com", "type": "resource"}}}), `"attendees": type must be required or optional`},
		{base(map[string]any{"attendees": []string{"a@contoso.com"}}), `"attendees"`},
		{base(map[string]any{"is_all_day": true}), `"start": must be a date`},
		{base(map[string]any{"start": "2026-11-30", "end": "2026-11-30", "is_all_day": false}), `"start": "2026-11-30" is a date`},
		{base(map[string]any{"end": "2026-11-30"}), `"end": "2026-11-30" is a date`},
		{base(map[string]any{"start": "2026-12-02", "end": "2026-12-01"}), `"end": must be after start`},
		{base(map[string]any{"reminder_minutes": -5}), `"reminder_minutes"`},
		{base(map[string]any{"organizer": "me"}), `"organizer": is not an argument`},
	} {
		assert.Contains(t, h.fails("create_event", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.posts("/v1.0/me/"), "bad input never reaches Graph")
}

func TestCreateEventNeedsCalendarsReadWrite(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "Calendars.Read", "offline_access"))
	msg := h.fails("create_event", map[string]any{"subject": "x", "start": "2026-11-30T10:00", "end": "2026-11-30T11:00"})
	assert.Contains(t, msg, "needs the Microsoft Graph delegated permission Calendars.ReadWrite")
	assert.Empty(t, h.posts("/v1.0/me/"))
}

func TestCreateEventOnAPersonalAccountSaysThereIsNoTeamsMeeting(t *testing.T) {
	h := newHarness(t, withSim(func(o *sim.Options) { o.PersonalAccount = true }))
	var res SavedEvent
	text := h.ok("create_event", map[string]any{"subject": "x", "start": "2026-11-30T10:00", "end": "2026-11-30T11:00", "is_online_meeting": true}, &res)
	assert.Empty(t, res.JoinURL)
	assert.Contains(t, text, "personal Microsoft accounts cannot create them")
}

func TestUpdateEventSendsOnlyTheGivenFields(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Q4 roadmap review", "2026-11-26", "2026-11-26")
	var res SavedEvent
	text := h.ok("update_event", map[string]any{"event_id": id, "start": "2026-11-26T15:00:00Z", "end": "2026-11-26T16:00:00Z", "location": "Conf Room Avon"}, &res)

	req := h.lastGraph("/v1.0/me/events/")
	assert.Equal(t, http.MethodPatch, req.Method)
	assert.Equal(t, "/v1.0/me/events/"+h.graphID(id), req.Path)
	assert.JSONEq(t, `{"start": {"dateTime": "2026-11-26T15:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2026-11-26T16:00:00", "timeZone": "UTC"},
		"location": {"displayName": "Conf Room Avon"}}`, string(req.Body))
	assert.Equal(t, "updated", res.Status)
	assert.Equal(t, "Q4 roadmap review", res.Subject, "what is not given stays")
	assert.Equal(t, "2026-11-26T15:00:00Z", res.Start)
	assert.Contains(t, text, "The update goes to:")

	var ev EventDetail
	h.ok("get_event", map[string]any{"event_id": id}, &ev)
	assert.Equal(t, "Conf Room Avon", ev.Location)

	// A meeting someone else organizes: only the user's copy changes.
	other := eventID(h, "Design critique: onboarding flow v5", "2026-11-25", "2026-11-25")
	text = h.ok("update_event", map[string]any{"event_id": other, "reminder_minutes": 30}, &res)
	assert.Contains(t, text, "Only your copy changed")
	assert.False(t, res.Notified)
}

func TestUpdateEventNeedsAChange(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Q4 roadmap review", "2026-11-26", "2026-11-26")
	assert.Contains(t, h.fails("update_event", map[string]any{"event_id": id}), "at least one field")
	assert.Contains(t, h.fails("update_event", map[string]any{"event_id": id, "time_zone": "Europe/Paris"}), "at least one field")
	assert.Contains(t, h.fails("update_event", map[string]any{"subject": "x"}), `"event_id": is required`)
	assert.Empty(t, h.posts("/v1.0/me/"))
}

func TestGetEventInFull(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Q4 roadmap review", "2026-11-26", "2026-11-26")
	var ev EventDetail
	text := h.ok("get_event", map[string]any{"event_id": id, "time_zone": "America/New_York"}, &ev)

	req := h.lastGraph("/v1.0/me/events/")
	assert.NotContains(t, req.Header.Get("Prefer"), "outlook.body-content-type", "HTML, converted here without what a reader never sees")
	assert.Contains(t, req.Header.Get("Prefer"), `outlook.timezone="America/New_York"`)
	assert.Contains(t, req.Query.Get("$select"), "attendees")

	assert.Equal(t, "2026-11-26T11:00:00-05:00", ev.Start)
	assert.Equal(t, "organizer", ev.MyResponse)
	assert.NotEmpty(t, ev.JoinURL)
	assert.Contains(t, ev.Body, "GA readiness risks")
	assert.NotContains(t, ev.Body, "<")
	assert.Contains(t, ev.Attendees, Attendee{Name: "Sofia Martínez", Address: "sofia.martinez@contoso.com", Type: "required", Response: "tentativelyAccepted"})
	assert.Contains(t, ev.Attendees, Attendee{Name: "Hannah Lindqvist", Address: "hannah.lindqvist@contoso.com", Type: "optional", Response: "none"})
	assert.Contains(t, text, "Organizer: you")

	// An occurrence names its series, which says how it repeats.
	standup := eventID(h, "Atlas daily stand-up", "2026-11-26", "2026-11-26")
	h.ok("get_event", map[string]any{"event_id": standup}, &ev)
	require.NotEmpty(t, ev.SeriesID)
	assert.Equal(t, "accepted", ev.MyResponse)
	h.ok("get_event", map[string]any{"event_id": ev.SeriesID}, &ev)
	assert.True(t, strings.HasPrefix(ev.Recurrence, "every week on monday, tuesday, wednesday, thursday, friday, from "), ev.Recurrence)

	assert.Contains(t, h.fails("get_event", map[string]any{"event_id": "x/../../messages"}), `Invalid argument "event_id"`)
	assert.Empty(t, h.graph("/v1.0/me/messages"))
}

func TestCancelEventAsOrganizerTellsTheAttendees(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Q4 roadmap review", "2026-11-26", "2026-11-26")
	var res CancelEventResult
	text := h.ok("cancel_event", map[string]any{"event_id": id, "comment": "Moving to January."}, &res)

	req := h.lastGraph("/v1.0/me/events/")
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "/v1.0/me/events/"+h.graphID(id)+"/cancel", req.Path)
	assert.JSONEq(t, `{"comment": "Moving to January."}`, string(req.Body))
	assert.Contains(t, res.Notified, "Daniel O'Brien <daniel.obrien@contoso.com>")
	assert.NotContains(t, strings.Join(res.Notified, ","), "thames2-300", "a room is not told")
	assert.Contains(t, text, "Cancellation sent to:")

	assert.Contains(t, h.fails("get_event", map[string]any{"event_id": id}), "Not found")
}

func TestCancelEventOfSomeoneElseSuggestsDeclining(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Design critique: onboarding flow v5", "2026-11-25", "2026-11-25")
	msg := h.fails("cancel_event", map[string]any{"event_id": id})
	assert.Contains(t, msg, "organized by Sofia Martínez <sofia.martinez@contoso.com>")
	assert.Contains(t, msg, "respond_to_event with response decline")
	assert.Empty(t, h.posts("/v1.0/me/events/"), "no POST /cancel")
}

func TestRespondToEventUpdatesTheResponse(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Atlas launch readiness review", "2026-12-02", "2026-12-02")
	var res RespondToEventResult
	text := h.ok("respond_to_event", map[string]any{"event_id": id, "response": "tentative", "comment": "May join late"}, &res)

	req := h.lastGraph("/v1.0/me/events/")
	assert.Equal(t, "/v1.0/me/events/"+h.graphID(id)+"/tentativelyAccept", req.Path)
	assert.JSONEq(t, `{"comment": "May join late", "sendResponse": true}`, string(req.Body))
	assert.Contains(t, text, "Tentatively accepted")
	assert.Contains(t, text, "The organizer was sent your answer")

	var ev EventDetail
	h.ok("get_event", map[string]any{"event_id": id}, &ev)
	assert.Equal(t, "tentativelyAccepted", ev.MyResponse)

	h.ok("respond_to_event", map[string]any{"event_id": id, "response": "accept", "send_response": false}, &res)
	assert.JSONEq(t, `{"comment": "", "sendResponse": false}`, string(h.lastGraph("/v1.0/me/events/").Body))
	h.ok("get_event", map[string]any{"event_id": id}, &ev)
	assert.Equal(t, "accepted", ev.MyResponse)
}

func TestRespondToEventRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	id := eventID(h, "Atlas launch readiness review", "2026-12-02", "2026-12-02")
	assert.Contains(t, h.fails("respond_to_event", map[string]any{"event_id": id, "response": "maybe"}), `"response": must be accept, tentative or decline`)
	assert.Contains(t, h.fails("respond_to_event", map[string]any{"event_id": id}), `"response": is required`)
	assert.Empty(t, h.posts("/v1.0/me/"))

	// Graph refuses an answer to one's own meeting.
	own := eventID(h, "Q4 roadmap review", "2026-11-26", "2026-11-26")
	assert.Contains(t, h.fails("respond_to_event", map[string]any{"event_id": own, "response": "accept"}), "You can't respond to a meeting you organized")
}

func TestListCalendars(t *testing.T) {
	h := newHarness(t)
	var res ListCalendarsResult
	text := h.ok("list_calendars", nil, &res)
	require.Len(t, res.Calendars, 2)
	assert.True(t, res.Calendars[0].IsDefault)
	assert.Equal(t, "Team calendar", res.Calendars[1].Name)
	assert.Equal(t, "priya.raman@contoso.com", res.Calendars[0].Owner.Address)
	assert.Equal(t, "id,name,color,isDefaultCalendar,canEdit,owner", h.lastGraph("/v1.0/me/calendars").Query.Get("$select"))
	assert.Contains(t, text, "Calendar (default)")
}
