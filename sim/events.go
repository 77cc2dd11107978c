package sim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Writes to the calendar: create, update, cancel, respond.

// eventInput is the writable part of microsoft.graph.event, as a create
// (POST) or an update (PATCH) sends it: absent properties stay nil.
type eventInput struct {
	Subject *string `json:"subject"`
	Body    *struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Start    *dateTimeTimeZone `json:"start"`
	End      *dateTimeTimeZone `json:"end"`
	Location *struct {
		DisplayName string `json:"displayName"`
	} `json:"location"`
	Attendees *[]struct {
		EmailAddress struct {
			Address string `json:"address"`
			Name    string `json:"name"`
		} `json:"emailAddress"`
		Type string `json:"type"`
	} `json:"attendees"`
	IsOnlineMeeting            *bool     `json:"isOnlineMeeting"`
	OnlineMeetingProvider      *string   `json:"onlineMeetingProvider"`
	IsAllDay                   *bool     `json:"isAllDay"`
	IsReminderOn               *bool     `json:"isReminderOn"`
	ReminderMinutesBeforeStart *int      `json:"reminderMinutesBeforeStart"`
	ShowAs                     *string   `json:"showAs"`
	Importance                 *string   `json:"importance"`
	Sensitivity                *string   `json:"sensitivity"`
	Categories                 *[]string `json:"categories"`
}

// apply writes in onto e, which holds the current values (for a new
// event, the defaults), with Graph's validation.
func (s *Sim) apply(in *eventInput, e *event) error {
	if in.Subject != nil {
		e.subject = *in.Subject
	}
	if in.Body != nil {
		switch strings.ToLower(in.Body.ContentType) {
		case "", "text":
			e.body = content{text: in.Body.Content}
		case "html":
			e.body = content{html: true, text: in.Body.Content}
		default:
			return gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.", in.Body.ContentType)
		}
	}
	if in.Location != nil {
		e.location = in.Location.DisplayName
	}
	for _, f := range []struct {
		v       *string
		into    *string
		typ     string
		allowed []string
	}{
		{in.ShowAs, &e.showAs, "freeBusyStatus", []string{"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}},
		{in.Importance, &e.importance, "importance", []string{"low", "normal", "high"}},
		{in.Sensitivity, &e.sensitivity, "sensitivity", []string{"normal", "personal", "private", "confidential"}},
	} {
		if f.v != nil {
			v, err := enumValue(*f.v, f.allowed, f.typ)
			if err != nil {
				return err
			}
			*f.into = v
		}
	}
	if in.Categories != nil {
		e.categories = slices.Clone(*in.Categories)
	}
	if in.ReminderMinutesBeforeStart != nil {
		if *in.ReminderMinutesBeforeStart < 0 {
			return gerr(400, "ErrorInvalidArgument", "The reminderMinutesBeforeStart value must be zero or greater.")
		}
		e.reminder = in.ReminderMinutesBeforeStart
	}
	if in.Attendees != nil {
		var list []attendee
		for _, a := range *in.Attendees {
			addr := strings.TrimSpace(a.EmailAddress.Address)
			if !plausibleAddress(addr) {
				return gerr(400, "ErrorInvalidRecipients", "At least one recipient isn't valid., Recipient '%s' is not resolved.", a.EmailAddress.Address)
			}
			typ := "required"
			if a.Type != "" {
				var err error
				if typ, err = enumValue(a.Type, []string{"required", "optional", "resource"}, "attendeeType"); err != nil {
					return err
				}
			}
			who := recipient{Name: cmp.Or(a.EmailAddress.Name, addr), Address: addr}
			resp := "none"
			for _, old := range e.attendees { // a kept attendee keeps their answer
				if strings.EqualFold(old.who.Address, addr) {
					resp = old.response
					who.Name = cmp.Or(a.EmailAddress.Name, old.who.Name)
				}
			}
			list = append(list, attendee{who: who, typ: typ, response: resp})
		}
		e.attendees = list
	}
	if in.IsOnlineMeeting != nil {
		e.online = *in.IsOnlineMeeting
	}
	if in.OnlineMeetingProvider != nil {
		p, err := enumValue(*in.OnlineMeetingProvider, []string{"unknown", "skypeForBusiness", "skypeForConsumer", "teamsForBusiness"}, "onlineMeetingProviderType")
		if err != nil {
			return err
		}
		if p != "teamsForBusiness" {
			e.online = false
		}
	}
	if s.opts.PersonalAccount {
		// Graph ignores Teams meetings on personal accounts: the event
		// is created without one.
		e.online = false
	}
	if !e.online {
		e.joinURL = ""
	}
	if in.IsAllDay != nil {
		e.allDay = *in.IsAllDay
	}
	start, end := e.start, e.end
	var err error
	if in.Start != nil {
		if start, err = in.Start.instant(); err != nil {
			return err
		}
	}
	if in.End != nil {
		if end, err = in.End.instant(); err != nil {
			return err
		}
	}
	if e.allDay {
		// All-day events float: kept as the dates, midnight to midnight.
		if !isMidnight(start) || !isMidnight(end) {
			return gerr(400, "ErrorPropertyValidationFailure", "The start time and end time of an all-day event must be at midnight.")
		}
		start = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
	}
	if end.Before(start) || (e.allDay && !end.After(start)) {
		return gerr(400, "ErrorCalendarEndDateIsEarlierThanStartDate", "The end date occurs before the start date.")
	}
	e.start, e.end = start.UTC(), end.UTC()
	return nil
}

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

func readEventInput(g *graphReq) (*eventInput, error) {
	if len(bytes.TrimSpace(g.body)) == 0 {
		return nil, badRequest("Empty Payload. JSON content expected.")
	}
	var in eventInput
	if err := strictJSON(g.body, &in, "microsoft.graph.event"); err != nil {
		return nil, err
	}
	return &in, nil
}

// POST /me/events and /me/calendars/{id}/events: 201 with the event. The
// attendees are invited (their status: none, not yet answered).
func (s *Sim) createEvent(g *graphReq) (*reply, error) {
	cal, err := s.calendarParam(g)
	if err != nil {
		return nil, err
	}
	in, err := readEventInput(g)
	if err != nil {
		return nil, err
	}
	if in.Start == nil || in.End == nil {
		return nil, gerr(400, "ErrorInvalidRequest", "Your request can't be completed. The start and end of the event are required.")
	}
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	s.seq++
	me := recipient{Name: s.box.me.DisplayName, Address: s.box.me.mailAddress()}
	e := &event{
		id:         derivedID("AAMkADc4ZjQ2ZTBlLTJkNTgtNGI0Yy05YTE4LTNmMmU4ZDYwNzJhOQBGAAAAAADDx0pZ3Wt1vTqG8kY2bN4QhBwBCk7Hq2yR9uS5aT0dLmVw3xAAAAAAENAABCk7Hq2yR9uS5aT0dLmVw3xAA", "created", strconv.Itoa(s.seq), g.reqID),
		calendarID: cal.id, organizer: me, isOrganizer: true, response: "organizer",
		showAs: "busy", importance: "normal", sensitivity: "normal", created: g.now.Truncate(time.Second),
		body: content{text: ""},
	}
	if err := s.apply(in, e); err != nil {
		return nil, err
	}
	s.box.finishEvent(e)
	s.box.events = append(s.box.events, e)
	rep, err := entity(g, &eventType.entityInfo, s.mePath()+"/events/$entity", s.eventJSON(e.master(v.loc), v))
	if rep != nil {
		rep.status = 201
	}
	return rep, err
}

// editable returns the event an id names, ready to change: a single event
// or series master itself, or an occurrence's exception (made on first use).
func (s *Sim) editable(id string) (*event, instance, error) {
	in, err := s.box.findInstance(id, time.UTC)
	if err != nil {
		return nil, in, err
	}
	if in.kind != "occurrence" {
		return in.ev, in, nil
	}
	if in.ev != in.series {
		return in.ev, in, nil
	}
	x := *in.series
	x.id, x.immID = in.id(false), in.id(true)
	x.recur, x.exceptions = nil, nil
	x.start, x.end = in.start.UTC(), in.end.UTC()
	x.attendees = slices.Clone(in.series.attendees)
	if in.series.exceptions == nil {
		in.series.exceptions = map[string]*event{}
	}
	in.series.exceptions[occurrenceDay(in.day)] = &x
	in.ev = &x
	return &x, in, nil
}

// PATCH /me/events/{id}: only the given properties change; 200 with the event.
func (s *Sim) updateEvent(g *graphReq) (*reply, error) {
	in, err := readEventInput(g)
	if err != nil {
		return nil, err
	}
	v, err := s.eventView(g)
	if err != nil {
		return nil, err
	}
	e, inst, err := s.editable(g.params["id"])
	if err != nil {
		return nil, err
	}
	// Validate on a copy: a failed update changes nothing.
	changed := *e
	changed.attendees = slices.Clone(e.attendees)
	if err := s.apply(in, &changed); err != nil {
		return nil, err
	}
	*e = changed
	s.box.finishEvent(e)
	if inst.kind == "occurrence" {
		inst, _ = inst.series.occurrence(inst.day, v.loc)
	} else {
		inst = e.master(v.loc)
	}
	return entity(g, &eventType.entityInfo, s.mePath()+"/events/$entity", s.eventJSON(inst, v))
}

// remove takes an event off the calendar: a single event or a whole
// series, or one occurrence (its exception marks it deleted).
func (s *Sim) remove(e *event, in instance) {
	if in.kind == "occurrence" {
		e.deleted = true
		return
	}
	s.box.events = slices.DeleteFunc(s.box.events, func(x *event) bool { return x == e })
}

// POST /me/events/{id}/cancel {"comment"}: only the organizer; the
// attendees get a cancellation and the event leaves the calendar. 202.
func (s *Sim) cancelEvent(g *graphReq) (*reply, error) {
	var req struct {
		Comment string `json:"comment"`
	}
	if len(bytes.TrimSpace(g.body)) > 0 {
		if err := strictJSON(g.body, &req, "microsoft.graph.cancel"); err != nil {
			return nil, err
		}
	}
	in, err := s.box.findInstance(g.params["id"], time.UTC)
	if err != nil {
		return nil, err
	}
	if !in.ev.isOrganizer {
		return nil, gerr(400, "ErrorAccessDenied", "Your request can't be completed. You need to be an organizer to cancel a meeting.")
	}
	e, in, err := s.editable(g.params["id"])
	if err != nil {
		return nil, err
	}
	s.remove(e, in)
	return &reply{status: 202}, nil
}

// POST /me/events/{id}/accept|tentativelyAccept|decline
// {"comment","sendResponse"}: the user's answer; a declined meeting leaves
// the calendar, as Exchange does. The organizer cannot answer. 202.
func respondEvent(response string) func(*Sim, *graphReq) (*reply, error) {
	return func(s *Sim, g *graphReq) (*reply, error) {
		var req struct {
			Comment         string          `json:"comment"`
			SendResponse    *bool           `json:"sendResponse"`
			ProposedNewTime json.RawMessage `json:"proposedNewTime"`
		}
		if len(bytes.TrimSpace(g.body)) > 0 {
			if err := strictJSON(g.body, &req, "microsoft.graph."+response); err != nil {
				return nil, err
			}
		}
		in, err := s.box.findInstance(g.params["id"], time.UTC)
		if err != nil {
			return nil, err
		}
		if in.ev.isOrganizer {
			return nil, gerr(400, "ErrorInvalidRequest", "Your request can't be completed. You can't respond to a meeting you organized.")
		}
		if in.ev.cancelled {
			return nil, gerr(400, "ErrorInvalidRequest", "Your request can't be completed. The meeting was cancelled.")
		}
		e, in, err := s.editable(g.params["id"])
		if err != nil {
			return nil, err
		}
		status := map[string]string{"accept": "accepted", "tentativelyAccept": "tentativelyAccepted", "decline": "declined"}[response]
		e.response = status
		e.showAs = map[string]string{"accepted": "busy", "tentativelyAccepted": "tentative", "declined": "free"}[status]
		me := s.box.me.mailAddress()
		for i := range e.attendees {
			if strings.EqualFold(e.attendees[i].who.Address, me) {
				e.attendees[i].response, e.attendees[i].at = status, g.now.Truncate(time.Second)
			}
		}
		s.box.finishEvent(e)
		if status == "declined" {
			s.remove(e, in)
		}
		return &reply{status: 202}, nil
	}
}
