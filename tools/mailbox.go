package tools

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/outlook-mcp/outlook-mcp/extract"
	"github.com/outlook-mcp/outlook-mcp/nango"
)

// ---- get_mailbox_settings ----

type GetMailboxSettingsArgs struct{}

type AutomaticReplies struct {
	Status           string `json:"status"`
	ExternalAudience string `json:"external_audience"`
	Start            string `json:"start,omitempty"`
	End              string `json:"end,omitempty"`
	InternalMessage  string `json:"internal_message"`
	ExternalMessage  string `json:"external_message"`
}

type MailboxSettingsResult struct {
	TimeZone         string           `json:"time_zone"`
	TimeZoneIANA     string           `json:"time_zone_iana,omitempty"`
	WorkingHours     string           `json:"working_hours"`
	AutomaticReplies AutomaticReplies `json:"automatic_replies"`
	Language         string           `json:"language"`
	DateFormat       string           `json:"date_format"`
	TimeFormat       string           `json:"time_format"`
}

// graphWorkingHours is Graph's workingHours, of the user or (getSchedule)
// of a colleague.
type graphWorkingHours struct {
	DaysOfWeek []string `json:"daysOfWeek"`
	StartTime  string   `json:"startTime"`
	EndTime    string   `json:"endTime"`
	TimeZone   struct {
		Name string `json:"name"`
	} `json:"timeZone"`
}

func (w graphWorkingHours) String() string {
	return fmt.Sprintf("%s %s–%s (%s)", strings.Join(w.DaysOfWeek, ", "), clockTime(w.StartTime), clockTime(w.EndTime), w.TimeZone.Name)
}

type graphMailboxSettings struct {
	TimeZone                string            `json:"timeZone"`
	WorkingHours            graphWorkingHours `json:"workingHours"`
	AutomaticRepliesSetting graphAutoReplies  `json:"automaticRepliesSetting"`
	Language                struct {
		Locale      string `json:"locale"`
		DisplayName string `json:"displayName"`
	} `json:"language"`
	DateFormat string `json:"dateFormat"`
	TimeFormat string `json:"timeFormat"`
}

// graphAutoReplies is automaticRepliesSetting as Graph returns it, and as
// set_automatic_replies patches it (absent fields stay unchanged).
type graphAutoReplies struct {
	Status                 string     `json:"status"`
	ExternalAudience       string     `json:"externalAudience,omitempty"`
	ScheduledStartDateTime *graphTime `json:"scheduledStartDateTime,omitempty"`
	ScheduledEndDateTime   *graphTime `json:"scheduledEndDateTime,omitempty"`
	InternalReplyMessage   *string    `json:"internalReplyMessage,omitempty"`
	ExternalReplyMessage   *string    `json:"externalReplyMessage,omitempty"`
}

var getMailboxSettings = define("get_mailbox_settings", "Read mailbox settings",
	"The user's mailbox settings: time zone, working hours, automatic replies (out of office), language, date and time formats.",
	[]string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"},
	Hints{ReadOnly: true, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, _ GetMailboxSettingsArgs) (*MailboxSettingsResult, error) {
		var g graphMailboxSettings
		err := get(ctx, c, "/me/mailboxSettings", "", url.Values{
			"$select": {"timeZone,workingHours,automaticRepliesSetting,language,dateFormat,timeFormat"},
		}, nil, &g)
		if err != nil {
			return nil, err
		}
		w := g.WorkingHours
		iana, _ := ianaZone(g.TimeZone)
		return &MailboxSettingsResult{
			TimeZone:         g.TimeZone,
			TimeZoneIANA:     iana,
			WorkingHours:     w.String(),
			AutomaticReplies: g.AutomaticRepliesSetting.result(),
			Language:         strings.Trim(g.Language.DisplayName+", "+g.Language.Locale, ", "),
			DateFormat:       g.DateFormat, TimeFormat: g.TimeFormat,
		}, nil
	})

// mailboxTimeZone is the zone the user's mailbox settings name, as Graph
// gives it: a Windows name usually (GMT Standard Time), or IANA.
func mailboxTimeZone(ctx context.Context, c *Call) (string, error) {
	var s struct {
		TimeZone string `json:"timeZone"`
	}
	err := get(ctx, c, "/me/mailboxSettings", "", url.Values{"$select": {"timeZone"}}, nil, &s)
	return s.TimeZone, err
}

// clockTime shortens an Edm.TimeOfDay (09:00:00.0000000) to 09:00.
func clockTime(s string) string {
	if len(s) >= 5 {
		return s[:5]
	}
	return s
}

func (g graphAutoReplies) result() AutomaticReplies {
	out := AutomaticReplies{Status: g.Status, ExternalAudience: g.ExternalAudience}
	if g.InternalReplyMessage != nil {
		out.InternalMessage = extract.PlainText(*g.InternalReplyMessage)
	}
	if g.ExternalReplyMessage != nil {
		out.ExternalMessage = extract.PlainText(*g.ExternalReplyMessage)
	}
	if g.Status == "scheduled" && g.ScheduledStartDateTime != nil && g.ScheduledEndDateTime != nil {
		out.Start, out.End = zonedTime(*g.ScheduledStartDateTime), zonedTime(*g.ScheduledEndDateTime)
	}
	return out
}

// zonedTime renders a Graph dateTimeTimeZone as RFC 3339 when its zone is
// known, else as the wall-clock time and zone name.
func zonedTime(t graphTime) string {
	loc, ok := location(t.TimeZone)
	if !ok {
		return strings.TrimSuffix(strings.TrimRight(t.DateTime, "0"), ".") + " " + t.TimeZone
	}
	return eventTime(t, loc, false)
}

// htmlOf is plain text as HTML, line breaks kept; nil stays nil.
func htmlOf(text *string) *string {
	if text == nil {
		return nil
	}
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(*text), "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	h := strings.Join(lines, "<br>\n")
	return &h
}

func (r *MailboxSettingsResult) Text() string {
	zone := r.TimeZone
	switch {
	case r.TimeZoneIANA == "":
		zone += " (a Windows name with no IANA zone known here)"
	case r.TimeZoneIANA != r.TimeZone:
		zone += " (IANA " + r.TimeZoneIANA + ")"
	}
	return fmt.Sprintf("Time zone: %s\nWorking hours: %s\nAutomatic replies: %s\nLanguage: %s; date format %s, time format %s",
		zone, r.WorkingHours, r.AutomaticReplies.describe(), r.Language, r.DateFormat, r.TimeFormat)
}

// describe says when replies go out and what they say.
func (a *AutomaticReplies) describe() string {
	var b strings.Builder
	switch a.Status {
	case "scheduled":
		fmt.Fprintf(&b, "scheduled from %s to %s", a.Start, a.End)
	case "alwaysEnabled":
		b.WriteString("on until turned off")
	default:
		b.WriteString("disabled")
	}
	fmt.Fprintf(&b, ", internal message: %s", quotedOrNone(a.InternalMessage))
	switch a.ExternalAudience {
	case "none":
		b.WriteString("; external senders get no reply (external audience: none)")
	case "contactsOnly":
		fmt.Fprintf(&b, "; external message (to senders in the user's contacts only): %s", quotedOrNone(a.ExternalMessage))
	default:
		fmt.Fprintf(&b, "; external message (to all external senders): %s", quotedOrNone(a.ExternalMessage))
	}
	return b.String()
}

func quotedOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return untrusted(oneLine(s, 400)) // the user's own, but free text never written for the model
}

// ---- set_automatic_replies ----

type SetAutomaticRepliesArgs struct {
	Status          string  `json:"status" jsonschema:"enum=disabled,enum=alwaysEnabled,enum=scheduled"`
	InternalMessage *string `max:"100000" json:"internal_message,omitempty" jsonschema_description:"Plain text, to your organisation. Omitted: unchanged."`
	ExternalMessage *string `max:"100000" json:"external_message,omitempty" jsonschema_description:"Plain text, to outside senders. Omitted: unchanged."`
	Start           string  `json:"start,omitempty" jsonschema_description:"scheduled: RFC 3339, or date/time in the mailbox time zone."`
	End             string  `json:"end,omitempty" jsonschema_description:"scheduled; a date alone: to the end of that day."`
	// ExternalAudience is who outside the organisation gets external_message.
	ExternalAudience string `json:"external_audience,omitempty" jsonschema:"enum=none,enum=contacts_only,enum=all" jsonschema_description:"Who outside gets external_message. Omitted: unchanged."`
}

var replyStatuses = []string{"disabled", "alwaysEnabled", "scheduled"}

// externalAudiences maps external_audience to Graph's externalAudience.
var externalAudiences = map[string]string{"none": "none", "contacts_only": "contactsOnly", "all": "all"}

// externalAudience reads external_audience ("" leaves it unchanged); Graph's
// own spelling (contactsOnly) is taken too.
func externalAudience(arg string) (string, error) {
	if arg == "" {
		return "", nil
	}
	v := strings.ToLower(strings.TrimSpace(arg))
	if v == "contactsonly" {
		v = "contacts_only"
	}
	if g, ok := externalAudiences[v]; ok {
		return g, nil
	}
	return "", argError("external_audience", "must be none, contacts_only or all, not %q", arg)
}

var setAutomaticReplies = define("set_automatic_replies", "Set automatic replies",
	"Turn the user's automatic replies (out of office) off, on, or on from start to end (scheduled), and set their messages. Returns the settings in effect.",
	[]string{"MailboxSettings.ReadWrite"},
	Hints{ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: true},
	func(ctx context.Context, c *Call, in SetAutomaticRepliesArgs) (*AutomaticReplies, error) {
		i := slices.IndexFunc(replyStatuses, func(s string) bool { return strings.EqualFold(s, strings.TrimSpace(in.Status)) })
		if i < 0 {
			return nil, argError("status", "must be disabled, alwaysEnabled or scheduled, not %q", in.Status)
		}
		audience, err := externalAudience(in.ExternalAudience)
		if err != nil {
			return nil, err
		}
		patch := graphAutoReplies{Status: replyStatuses[i], ExternalAudience: audience,
			InternalReplyMessage: htmlOf(in.InternalMessage), ExternalReplyMessage: htmlOf(in.ExternalMessage)}
		window, err := replyWindow(patch.Status, in.Start, in.End)
		if err != nil {
			return nil, err
		}
		if window != nil {
			zone := "UTC"
			if !window.offset {
				// Times without an offset are in the mailbox's time zone.
				name, err := mailboxTimeZone(ctx, c)
				if err != nil {
					return nil, err
				}
				zone = cmp.Or(name, "UTC")
			}
			patch.ScheduledStartDateTime = &graphTime{DateTime: window.start.Format("2006-01-02T15:04:05"), TimeZone: zone}
			patch.ScheduledEndDateTime = &graphTime{DateTime: window.end.Format("2006-01-02T15:04:05"), TimeZone: zone}
		}
		var res struct {
			AutomaticRepliesSetting graphAutoReplies `json:"automaticRepliesSetting"`
		}
		err = c.Conn.Do(ctx, nango.Request{
			Method: http.MethodPatch, Path: "/me/mailboxSettings", Idempotent: true,
			Body: map[string]any{"automaticRepliesSetting": patch},
		}, &res)
		if err != nil {
			return nil, err
		}
		out := res.AutomaticRepliesSetting.result()
		return &out, nil
	})

// window is a scheduled reply window: UTC times when given with an offset,
// else wall-clock times of the mailbox's time zone.
type window struct {
	start, end time.Time
	offset     bool
}

// replyWindow checks start and end against the status.
func replyWindow(status, start, end string) (*window, error) {
	if status != "scheduled" {
		if start != "" {
			return nil, argError("start", "applies only when status is scheduled")
		}
		if end != "" {
			return nil, argError("end", "applies only when status is scheduled")
		}
		return nil, nil
	}
	if strings.TrimSpace(start) == "" {
		return nil, argError("start", "is required when status is scheduled")
	}
	if strings.TrimSpace(end) == "" {
		return nil, argError("end", "is required when status is scheduled")
	}
	w := &window{offset: hasOffset(start)}
	var endDateOnly bool
	var err error
	if w.start, _, err = parseTime("start", start, time.UTC); err != nil {
		return nil, err
	}
	if w.end, endDateOnly, err = parseTime("end", end, time.UTC); err != nil {
		return nil, err
	}
	if endDateOnly {
		w.end = w.end.AddDate(0, 0, 1)
	}
	if hasOffset(end) != w.offset {
		return nil, argError("end", "must be written like start: both with a UTC offset (2026-12-21T09:00:00Z) or both without (mailbox time zone)")
	}
	if !w.end.After(w.start) {
		return nil, argError("end", "must be after start")
	}
	w.start, w.end = w.start.UTC(), w.end.UTC()
	return w, nil
}

// hasOffset reports whether s is an RFC 3339 time with its UTC offset.
func hasOffset(s string) bool {
	_, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	return err == nil
}

func (a *AutomaticReplies) Text() string {
	return "Automatic replies now " + a.describe() + "."
}
