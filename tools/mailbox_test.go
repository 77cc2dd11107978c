package tools

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetMailboxSettings(t *testing.T) {
	h := newHarness(t)
	var s MailboxSettingsResult
	text := h.ok("get_mailbox_settings", nil, &s)
	assert.Equal(t, MailboxSettingsResult{
		TimeZone:     "GMT Standard Time",
		TimeZoneIANA: "Europe/London",
		WorkingHours: "monday, tuesday, wednesday, thursday, friday 09:00–17:30 (GMT Standard Time)",
		AutomaticReplies: AutomaticReplies{
			Status: "disabled", ExternalAudience: "contactsOnly",
			InternalMessage: "Hi,\n\nI'm on leave and back on Monday. For anything urgent on Atlas, please contact Daniel O'Brien.\n\nPriya",
			ExternalMessage: "Thank you for your email. I'm out of the office with limited access to email and will reply when I'm back.\n\nKind regards,\nPriya Raman\nSenior Product Manager, Contoso Ltd.",
		},
		Language: "English (United Kingdom), en-GB", DateFormat: "dd/MM/yyyy", TimeFormat: "HH:mm",
	}, s)
	assert.Contains(t, text, "Time zone: GMT Standard Time (IANA Europe/London)\nWorking hours: monday, tuesday, wednesday, thursday, friday 09:00–17:30 (GMT Standard Time)\n")
	assert.Contains(t, unmarked(text), `Automatic replies: disabled, internal message: ⟦data M⟧Hi, I'm on leave and back on Monday.`)
	assert.Contains(t, unmarked(text), "; external message (to senders in the user's contacts only): ⟦data M⟧Thank you")
	assert.Equal(t, "timeZone,workingHours,automaticRepliesSetting,language,dateFormat,timeFormat", h.lastGraph("/v1.0/me/mailboxSettings").Query.Get("$select"))
}

func TestMailboxTimeZoneNamesItsIANAZone(t *testing.T) {
	for name, want := range map[string]string{
		"GMT Standard Time":             "Europe/London",
		"W. Europe Standard Time":       "Europe/Berlin",
		"eastern standard time":         "America/New_York",
		"India Standard Time":           "Asia/Kolkata",
		"FLE Standard Time":             "Europe/Kyiv",
		"Tokyo Standard Time":           "Asia/Tokyo",
		"AUS Eastern Standard Time":     "Australia/Sydney",
		"Russia Time Zone 11":           "Asia/Kamchatka",
		"Europe/Paris":                  "Europe/Paris",
		"UTC":                           "UTC",
		"Nowhere Standard Time":         "",
		"Europe/Atlantis":               "",
		"Chatham Islands Standard Time": "Pacific/Chatham",
	} {
		got, ok := ianaZone(name)
		assert.Equal(t, want, got, name)
		assert.Equal(t, want != "", ok, name)
	}
	for windows, iana := range windowsZones {
		_, err := time.LoadLocation(iana)
		assert.NoError(t, err, "%s → %s", windows, iana)
	}

	text := (&MailboxSettingsResult{TimeZone: "Nowhere Standard Time"}).Text()
	assert.Contains(t, text, "Time zone: Nowhere Standard Time (a Windows name with no IANA zone known here)\n", "an unknown name is said to be one")
	text = (&MailboxSettingsResult{TimeZone: "Europe/Paris", TimeZoneIANA: "Europe/Paris"}).Text()
	assert.Contains(t, text, "Time zone: Europe/Paris\n", "an IANA name is not repeated")
}

func TestSetAutomaticRepliesForAWindow(t *testing.T) {
	h := newHarness(t)
	var r AutomaticReplies
	text := h.ok("set_automatic_replies", map[string]any{
		"status": "scheduled", "start": "2026-12-21T09:00:00Z", "end": "2027-01-04T09:00:00+01:00",
		"internal_message": "Back on 4 January.\nUrgent: ask Daniel.", "external_message": "I'm away & back on 4 January.",
	}, &r)
	req := h.lastGraph("/v1.0/me/mailboxSettings")
	assert.Equal(t, "PATCH", req.Method)
	assert.JSONEq(t, `{"automaticRepliesSetting":{"status":"scheduled",
		"scheduledStartDateTime":{"dateTime":"2026-12-21T09:00:00","timeZone":"UTC"},
		"scheduledEndDateTime":{"dateTime":"2027-01-04T08:00:00","timeZone":"UTC"},
		"internalReplyMessage":"Back on 4 January.<br>\nUrgent: ask Daniel.",
		"externalReplyMessage":"I&#39;m away &amp; back on 4 January."}}`, string(req.Body))
	assert.Len(t, h.graph("/v1.0/me/mailboxSettings"), 1, "times with an offset need no time zone lookup")
	assert.Equal(t, AutomaticReplies{
		Status: "scheduled", ExternalAudience: "contactsOnly", Start: "2026-12-21T09:00:00Z", End: "2027-01-04T08:00:00Z",
		InternalMessage: "Back on 4 January.\nUrgent: ask Daniel.", ExternalMessage: "I'm away & back on 4 January.",
	}, r)
	assert.Equal(t, `Automatic replies now scheduled from 2026-12-21T09:00:00Z to 2027-01-04T08:00:00Z, internal message: ⟦data M⟧Back on 4 January. Urgent: ask Daniel.⟦end M⟧; external message (to senders in the user's contacts only): ⟦data M⟧I'm away & back on 4 January.⟦end M⟧.`, unmarked(text))

	var s MailboxSettingsResult
	h.ok("get_mailbox_settings", nil, &s)
	assert.Equal(t, r, s.AutomaticReplies, "read back as set")
}

func TestSetAutomaticRepliesInTheMailboxTimeZone(t *testing.T) {
	h := newHarness(t)
	var r AutomaticReplies
	h.ok("set_automatic_replies", map[string]any{"status": "Scheduled", "start": "2026-12-21", "end": "2027-01-03"}, &r)
	calls := h.graph("/v1.0/me/mailboxSettings")
	require.Len(t, calls, 2)
	assert.Equal(t, "GET", calls[0].Method)
	assert.Equal(t, "timeZone", calls[0].Query.Get("$select"))
	assert.JSONEq(t, `{"automaticRepliesSetting":{"status":"scheduled",
		"scheduledStartDateTime":{"dateTime":"2026-12-21T00:00:00","timeZone":"GMT Standard Time"},
		"scheduledEndDateTime":{"dateTime":"2027-01-04T00:00:00","timeZone":"GMT Standard Time"}}}`, string(calls[1].Body), "a date alone as end: to the end of that day")
	assert.Equal(t, "2026-12-21T00:00:00Z", r.Start, "London is on UTC in winter")
	assert.Equal(t, "2027-01-04T00:00:00Z", r.End)
	assert.Contains(t, r.InternalMessage, "I'm on leave", "messages not given are kept")
}

func TestSetAutomaticRepliesOnAndOff(t *testing.T) {
	h := newHarness(t)
	text := h.ok("set_automatic_replies", map[string]any{"status": "alwaysEnabled", "internal_message": "Parental leave until March."}, nil)
	assert.JSONEq(t, `{"automaticRepliesSetting":{"status":"alwaysEnabled","internalReplyMessage":"Parental leave until March."}}`, string(h.lastGraph("/v1.0/me/mailboxSettings").Body))
	assert.Contains(t, unmarked(text), `Automatic replies now on until turned off, internal message: ⟦data M⟧Parental leave until March.⟦end M⟧; external message (to senders in the user's contacts only): ⟦data M⟧Thank you for your email.`)

	text = h.ok("set_automatic_replies", map[string]any{"status": "disabled", "external_message": ""}, nil)
	assert.JSONEq(t, `{"automaticRepliesSetting":{"status":"disabled","externalReplyMessage":""}}`, string(h.lastGraph("/v1.0/me/mailboxSettings").Body), "an empty message clears it")
	assert.Equal(t, `Automatic replies now disabled, internal message: ⟦data M⟧Parental leave until March.⟦end M⟧; external message (to senders in the user's contacts only): (none).`, unmarked(text))
}

func TestSetAutomaticRepliesSetsTheExternalAudience(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ arg, graph, says string }{
		{"all", "all", "; external message (to all external senders): "},
		{"none", "none", "; external senders get no reply (external audience: none)"},
		{"contacts_only", "contactsOnly", "; external message (to senders in the user's contacts only): "},
		{"contactsOnly", "contactsOnly", "; external message (to senders in the user's contacts only): "},
	} {
		var r AutomaticReplies
		text := h.ok("set_automatic_replies", map[string]any{"status": "alwaysEnabled", "external_audience": c.arg}, &r)
		assert.JSONEq(t, `{"automaticRepliesSetting":{"status":"alwaysEnabled","externalAudience":"`+c.graph+`"}}`, string(h.lastGraph("/v1.0/me/mailboxSettings").Body))
		assert.Equal(t, c.graph, r.ExternalAudience, c.arg)
		assert.Contains(t, text, c.says, c.arg)

		var s MailboxSettingsResult
		text = h.ok("get_mailbox_settings", nil, &s)
		assert.Equal(t, c.graph, s.AutomaticReplies.ExternalAudience, "%s: stored", c.arg)
		assert.Contains(t, text, c.says, c.arg)
	}
	h.ok("set_automatic_replies", map[string]any{"status": "disabled"}, nil)
	assert.NotContains(t, string(h.lastGraph("/v1.0/me/mailboxSettings").Body), "externalAudience", "omitted: unchanged")
}

func TestSetAutomaticRepliesRejectsBadInput(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"status": "on"}, `"status": must be disabled, alwaysEnabled or scheduled, not "on"`},
		{map[string]any{}, `"status": is required`},
		{map[string]any{"status": "scheduled", "end": "2027-01-04"}, `"start": is required when status is scheduled`},
		{map[string]any{"status": "scheduled", "start": "2026-12-21"}, `"end": is required when status is scheduled`},
		{map[string]any{"status": "scheduled", "start": "2027-01-04T09:00:00Z", "end": "2026-12-21T09:00:00Z"}, `"end": must be after start`},
		{map[string]any{"status": "scheduled", "start": "2026-12-21T09:00:00Z", "end": "2026-12-21T10:00:00+02:00"}, `"end": must be after start`},
		{map[string]any{"status": "scheduled", "start": "2026-12-21T09:00:00Z", "end": "2027-01-04"}, `"end": must be written like start`},
		{map[string]any{"status": "scheduled", "start": "next monday", "end": "2027-01-04"}, `"start": "next monday" is not a date`},
		{map[string]any{"status": "alwaysEnabled", "start": "2026-12-21"}, `"start": applies only when status is scheduled`},
		{map[string]any{"status": "disabled", "end": "2026-12-21"}, `"end": applies only when status is scheduled`},
		{map[string]any{"status": "alwaysEnabled", "external_audience": "everyone"}, `"external_audience": must be none, contacts_only or all, not "everyone"`},
		{map[string]any{"status": "alwaysEnabled", "external_audience": " "}, `"external_audience": must be none, contacts_only or all`},
	} {
		assert.Contains(t, h.fails("set_automatic_replies", tc.args), tc.want, "%v", tc.args)
	}
	assert.Empty(t, h.graph("/v1.0/me/mailboxSettings"), "bad input never reaches Outlook")
}

func TestSetAutomaticRepliesInThePastIsRefusedByOutlook(t *testing.T) {
	h := newHarness(t)
	msg := h.fails("set_automatic_replies", map[string]any{"status": "scheduled", "start": "2026-01-05T09:00:00Z", "end": "2026-01-09T17:00:00Z"})
	assert.Contains(t, msg, "Outlook rejected the request (ErrorInvalidScheduledOofDuration")
}

func TestSetAutomaticRepliesNeedsMailboxSettingsReadWrite(t *testing.T) {
	h := newHarness(t, withScopes("User.Read", "MailboxSettings.Read"))
	h.ok("get_mailbox_settings", nil, nil)
	msg := h.fails("set_automatic_replies", map[string]any{"status": "disabled"})
	assert.Contains(t, msg, "set_automatic_replies needs the Microsoft Graph delegated permission MailboxSettings.ReadWrite, which Nango connection")
	assert.Contains(t, msg, "Granted now: MailboxSettings.Read, User.Read.")
	for _, r := range h.graph("/v1.0/me/mailboxSettings") {
		assert.Equal(t, "GET", r.Method, "nothing was changed")
	}

	h = newHarness(t, withScopes("User.Read"))
	assert.Contains(t, h.fails("get_mailbox_settings", nil), "get_mailbox_settings needs the Microsoft Graph delegated permission MailboxSettings.Read (or any of MailboxSettings.ReadWrite)")
}
