package sim

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"
)

// mailboxSettings is /me/mailboxSettings: the mailbox's time zone, working
// hours, automatic replies (out of office), language and formats.
type mailboxSettings struct {
	archiveFolder   string
	timeZone        string
	workingHours    workingHours
	replies         autoReplies
	language        localeInfo
	dateFormat      string
	timeFormat      string
	delegateOptions string
}

type workingHours struct {
	DaysOfWeek []string `json:"daysOfWeek"`
	StartTime  string   `json:"startTime"` // Edm.TimeOfDay: 09:00:00.0000000
	EndTime    string   `json:"endTime"`
	TimeZone   struct {
		Name string `json:"name"`
	} `json:"timeZone"`
}

type localeInfo struct {
	Locale      string `json:"locale"`
	DisplayName string `json:"displayName"`
}

// autoReplies is automaticRepliesSetting. Exchange keeps the schedule in
// UTC, and the messages as HTML, as given.
type autoReplies struct {
	status, audience   string
	start, end         time.Time
	internal, external string
}

// rawSettings is the fixture's mailboxSettings: Graph's shape, with the
// schedule in relative times.
type rawSettings struct {
	ArchiveFolder    string       `json:"archiveFolder"`
	TimeZone         string       `json:"timeZone"`
	WorkingHours     workingHours `json:"workingHours"`
	AutomaticReplies struct {
		Status           string `json:"status"`
		ExternalAudience string `json:"externalAudience"`
		Start            string `json:"scheduledStartDateTime"`
		End              string `json:"scheduledEndDateTime"`
		Internal         string `json:"internalReplyMessage"`
		External         string `json:"externalReplyMessage"`
	} `json:"automaticRepliesSetting"`
	Language        localeInfo `json:"language"`
	DateFormat      string     `json:"dateFormat"`
	TimeFormat      string     `json:"timeFormat"`
	DelegateOptions string     `json:"delegateMeetingMessageDeliveryOptions"`
}

// loadSettings reads the fixture's settings; without any, those of a new
// mailbox.
func loadSettings(raw *rawSettings, c clock) (*mailboxSettings, error) {
	if raw == nil {
		raw = &rawSettings{TimeZone: "UTC", Language: localeInfo{"en-US", "English (United States)"}, DateFormat: "M/d/yyyy", TimeFormat: "h:mm tt"}
		raw.WorkingHours = workingHours{DaysOfWeek: []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, StartTime: "08:00:00", EndTime: "17:00:00"}
		raw.WorkingHours.TimeZone.Name = "UTC"
		raw.AutomaticReplies.Start, raw.AutomaticReplies.End = "0d 00:00", "+1d 00:00"
	}
	r := raw.AutomaticReplies
	m := &mailboxSettings{archiveFolder: raw.ArchiveFolder, language: raw.Language, dateFormat: raw.DateFormat, timeFormat: raw.TimeFormat,
		replies: autoReplies{internal: r.Internal, external: r.External}}
	var errs [7]error
	m.timeZone, errs[0] = mailboxZone(raw.TimeZone)
	m.workingHours, errs[1] = checkWorkingHours(raw.WorkingHours)
	m.replies.status, errs[2] = enumValue(cmp.Or(r.Status, "disabled"), repliesStatuses, "automaticRepliesStatus")
	m.replies.audience, errs[3] = enumValue(cmp.Or(r.ExternalAudience, "all"), audiences, "externalAudienceScope")
	m.delegateOptions, errs[4] = enumValue(cmp.Or(raw.DelegateOptions, "sendToDelegateOnly"), delegateOptions, "delegateMeetingMessageDeliveryOptions")
	m.replies.start, errs[5] = c.resolve(r.Start)
	m.replies.end, errs[6] = c.resolve(r.End)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return m, nil
}

var (
	repliesStatuses = []string{"disabled", "alwaysEnabled", "scheduled"}
	audiences       = []string{"none", "contactsOnly", "all"}
	delegateOptions = []string{"sendToDelegateAndInformationToPrincipal", "sendToDelegateAndPrincipal", "sendToDelegateOnly"}
)

// enumValue reads a Graph enum member, case-insensitively, in its canonical
// spelling.
func enumValue(v string, members []string, typeName string) (string, error) {
	i := slices.IndexFunc(members, func(m string) bool { return strings.EqualFold(m, v) })
	if i < 0 {
		return "", gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.%s'.", v, typeName)
	}
	return members[i], nil
}

var errInvalidZone = gerr(400, "InvalidTimeZone", "Time Zone settings provided are invalid.")

// mailboxZone accepts a Windows or IANA zone name, kept as given.
func mailboxZone(name string) (string, error) {
	if _, err := resolveZone(name); err != nil {
		return "", errInvalidZone
	}
	return name, nil
}

// checkWorkingHours validates working hours as Exchange does and returns
// them in Graph's spelling.
func checkWorkingHours(w workingHours) (workingHours, error) {
	out := w
	out.DaysOfWeek = []string{}
	for _, d := range w.DaysOfWeek {
		if _, ok := weekdays[strings.ToLower(d)]; !ok {
			return w, gerr(400, "InvalidArguments", "Requested value '%s' was not found.", d)
		}
		out.DaysOfWeek = append(out.DaysOfWeek, strings.ToLower(d))
	}
	var times [2]time.Time
	for i, p := range []*string{&out.StartTime, &out.EndTime} {
		t, err := time.Parse("15:04:05.9999999", *p)
		if err != nil {
			return w, gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.TimeOfDay'.", *p)
		}
		times[i], *p = t, t.Format("15:04:05.0000000")
	}
	if !times[0].Before(times[1]) {
		return w, gerr(400, "ErrorInvalidTimeSettings", "Start Time should occur before End Time.")
	}
	if _, err := mailboxZone(w.TimeZone.Name); err != nil {
		return w, err
	}
	return out, nil
}

var settingsInfo = &entityInfo{
	name: "microsoft.graph.mailboxSettings",
	props: []string{"archiveFolder", "timeZone", "automaticRepliesSetting", "language", "workingHours", "dateFormat",
		"timeFormat", "userPurpose", "delegateMeetingMessageDeliveryOptions"},
	selectCode: "RequestBroker--ParseUri",
}

func utcDateTime(t time.Time) map[string]any {
	return map[string]any{"dateTime": graphDateTime(t.UTC()), "timeZone": "UTC"}
}

func (m *mailboxSettings) json() map[string]any {
	r := m.replies
	return map[string]any{
		"archiveFolder": m.archiveFolder,
		"timeZone":      m.timeZone,
		"automaticRepliesSetting": map[string]any{
			"status":                 r.status,
			"externalAudience":       r.audience,
			"internalReplyMessage":   r.internal,
			"externalReplyMessage":   r.external,
			"scheduledStartDateTime": utcDateTime(r.start),
			"scheduledEndDateTime":   utcDateTime(r.end),
		},
		"language":                              m.language,
		"workingHours":                          m.workingHours,
		"dateFormat":                            m.dateFormat,
		"timeFormat":                            m.timeFormat,
		"userPurpose":                           "user",
		"delegateMeetingMessageDeliveryOptions": m.delegateOptions,
	}
}

// GET /me/mailboxSettings
func (s *Sim) getSettings(g *graphReq) (*reply, error) {
	return entity(g, settingsInfo, s.mePath()+"/mailboxSettings", s.box.settings.json())
}

// settingsPatch is the body of PATCH /me/mailboxSettings: the writable
// properties; what is absent stays as it is.
type settingsPatch struct {
	Context          string        `json:"@odata.context"` // Graph's own examples send it back
	ArchiveFolder    *string       `json:"archiveFolder"`
	TimeZone         *string       `json:"timeZone"`
	WorkingHours     *hoursPatch   `json:"workingHours"`
	AutomaticReplies *repliesPatch `json:"automaticRepliesSetting"`
	Language         *localeInfo   `json:"language"`
	DateFormat       *string       `json:"dateFormat"`
	TimeFormat       *string       `json:"timeFormat"`
	DelegateOptions  *string       `json:"delegateMeetingMessageDeliveryOptions"`
}

type hoursPatch struct {
	DaysOfWeek *[]string `json:"daysOfWeek"`
	StartTime  *string   `json:"startTime"`
	EndTime    *string   `json:"endTime"`
	TimeZone   *struct {
		Name string `json:"name"`
	} `json:"timeZone"`
}

type repliesPatch struct {
	Status           *string           `json:"status"`
	ExternalAudience *string           `json:"externalAudience"`
	Start            *dateTimeTimeZone `json:"scheduledStartDateTime"`
	End              *dateTimeTimeZone `json:"scheduledEndDateTime"`
	Internal         *string           `json:"internalReplyMessage"`
	External         *string           `json:"externalReplyMessage"`
}

type dateTimeTimeZone struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

// instant reads a dateTimeTimeZone: a wall-clock time in a Windows or IANA
// zone (UTC when none is given).
func (d dateTimeTimeZone) instant() (time.Time, error) {
	loc, err := resolveZone(cmp.Or(d.TimeZone, "UTC"))
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", d.DateTime, loc)
	if err != nil {
		return time.Time{}, gerr(400, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.DateTime'.", d.DateTime)
	}
	return t, nil
}

// PATCH /me/mailboxSettings: 200 with the properties that were set.
func (s *Sim) patchSettings(g *graphReq) (*reply, error) {
	if len(bytes.TrimSpace(g.body)) == 0 {
		return nil, badRequest("Empty Payload. JSON content expected.")
	}
	var p settingsPatch
	if err := strictJSON(g.body, &p, "microsoft.graph.mailboxSettings"); err != nil {
		return nil, err
	}
	next := *s.box.settings
	var set selection
	apply := func(name string, present bool, f func() error) error {
		if !present {
			return nil
		}
		set = append(set, name)
		return f()
	}
	err := firstError(
		apply("archiveFolder", p.ArchiveFolder != nil, func() error {
			next.archiveFolder = *p.ArchiveFolder
			return nil
		}),
		apply("timeZone", p.TimeZone != nil, func() (err error) {
			next.timeZone, err = mailboxZone(*p.TimeZone)
			return
		}),
		apply("workingHours", p.WorkingHours != nil, func() (err error) {
			next.workingHours, err = p.WorkingHours.apply(next.workingHours)
			return
		}),
		apply("automaticRepliesSetting", p.AutomaticReplies != nil, func() (err error) {
			next.replies, err = p.AutomaticReplies.apply(next.replies, g.now)
			return
		}),
		apply("language", p.Language != nil, func() error {
			next.language = localeInfo{p.Language.Locale, cmp.Or(localeNames[strings.ToLower(p.Language.Locale)], p.Language.Locale)}
			return nil
		}),
		apply("dateFormat", p.DateFormat != nil, func() error {
			next.dateFormat = *p.DateFormat
			return nil
		}),
		apply("timeFormat", p.TimeFormat != nil, func() error {
			next.timeFormat = *p.TimeFormat
			return nil
		}),
		apply("delegateMeetingMessageDeliveryOptions", p.DelegateOptions != nil, func() (err error) {
			next.delegateOptions, err = enumValue(*p.DelegateOptions, delegateOptions, "delegateMeetingMessageDeliveryOptions")
			return
		}),
	)
	if err != nil {
		return nil, err
	}
	*s.box.settings = next
	out := set.apply(next.json(), settingsInfo)
	out["@odata.context"] = contextURL(s.mePath()+"/mailboxSettings", nil)
	return &reply{body: out}, nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *hoursPatch) apply(w workingHours) (workingHours, error) {
	if p.DaysOfWeek != nil {
		w.DaysOfWeek = *p.DaysOfWeek
	}
	if p.StartTime != nil {
		w.StartTime = *p.StartTime
	}
	if p.EndTime != nil {
		w.EndTime = *p.EndTime
	}
	if p.TimeZone != nil {
		w.TimeZone.Name = p.TimeZone.Name
	}
	return checkWorkingHours(w)
}

// apply sets automatic replies. A schedule must lie in the future, its end
// after its start, as Exchange requires once the status is scheduled.
func (p *repliesPatch) apply(r autoReplies, now time.Time) (autoReplies, error) {
	var err error
	if p.Status != nil {
		if r.status, err = enumValue(*p.Status, repliesStatuses, "automaticRepliesStatus"); err != nil {
			return r, err
		}
	}
	if p.ExternalAudience != nil {
		if r.audience, err = enumValue(*p.ExternalAudience, audiences, "externalAudienceScope"); err != nil {
			return r, err
		}
	}
	for _, t := range []struct {
		in  *dateTimeTimeZone
		out *time.Time
	}{{p.Start, &r.start}, {p.End, &r.end}} {
		if t.in == nil {
			continue
		}
		if *t.out, err = t.in.instant(); err != nil {
			return r, err
		}
	}
	if p.Internal != nil {
		r.internal = *p.Internal
	}
	if p.External != nil {
		r.external = *p.External
	}
	if r.status == "scheduled" && (!r.end.After(r.start) || !r.end.After(now)) {
		return r, gerr(400, "ErrorInvalidScheduledOofDuration", "The scheduled duration for sending automatic replies isn't valid.")
	}
	return r, nil
}

// localeNames are the display names Graph gives a few locales.
var localeNames = map[string]string{
	"en-us": "English (United States)",
	"en-gb": "English (United Kingdom)",
	"de-de": "German (Germany)",
	"fr-fr": "French (France)",
	"es-es": "Spanish (Spain)",
	"nl-nl": "Dutch (Netherlands)",
	"ja-jp": "Japanese (Japan)",
}
