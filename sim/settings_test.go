package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetMailboxSettings(t *testing.T) {
	s := newSim(t)
	r := get(s, "/v1.0/me/mailboxSettings")
	require.Equal(t, 200, r.status, string(r.body))
	m := r.json(t)
	assert.Equal(t, "https://graph.microsoft.com/v1.0/$metadata#users('4a7c9e21-5b3d-4f86-9d12-7e0b3c5a8f64')/mailboxSettings", m["@odata.context"])
	assert.Equal(t, "GMT Standard Time", m["timeZone"])
	assert.Equal(t, map[string]any{
		"daysOfWeek": []any{"monday", "tuesday", "wednesday", "thursday", "friday"},
		"startTime":  "09:00:00.0000000", "endTime": "17:30:00.0000000",
		"timeZone": map[string]any{"name": "GMT Standard Time"},
	}, m["workingHours"])
	replies := m["automaticRepliesSetting"].(map[string]any)
	assert.Equal(t, "disabled", replies["status"])
	assert.Equal(t, "contactsOnly", replies["externalAudience"])
	assert.Equal(t, map[string]any{"dateTime": "2026-10-09T17:30:00.0000000", "timeZone": "UTC"}, replies["scheduledStartDateTime"], "47 days before the clock")
	assert.Contains(t, replies["internalReplyMessage"], "<html>")
	assert.Equal(t, map[string]any{"locale": "en-GB", "displayName": "English (United Kingdom)"}, m["language"])
	assert.Equal(t, "dd/MM/yyyy", m["dateFormat"])
	assert.Equal(t, "HH:mm", m["timeFormat"])

	r = get(s, "/v1.0/me/mailboxSettings?$select=timeZone,automaticRepliesSetting")
	assert.ElementsMatch(t, []string{"@odata.context", "timeZone", "automaticRepliesSetting"}, keys(r.json(t)))
	assert.Equal(t, "RequestBroker--ParseUri", get(s, "/v1.0/me/mailboxSettings?$select=timezones").code(t))
}

func TestPatchAutomaticReplies(t *testing.T) {
	s := newSim(t)
	body := `{"automaticRepliesSetting":{"status":"Scheduled",` +
		`"scheduledStartDateTime":{"dateTime":"2026-12-21T09:00:00","timeZone":"GMT Standard Time"},` +
		`"scheduledEndDateTime":{"dateTime":"2027-01-04T08:00:00.0000000","timeZone":"UTC"},` +
		`"internalReplyMessage":"Back on 4 January."}}`
	r := proxy(s, "PATCH", "/v1.0/me/mailboxSettings", body)
	require.Equal(t, 200, r.status, string(r.body))
	m := r.json(t)
	assert.ElementsMatch(t, []string{"@odata.context", "automaticRepliesSetting"}, keys(m), "only what was set")
	replies := m["automaticRepliesSetting"].(map[string]any)
	assert.Equal(t, "scheduled", replies["status"], "in Graph's spelling")
	assert.Equal(t, map[string]any{"dateTime": "2026-12-21T09:00:00.0000000", "timeZone": "UTC"}, replies["scheduledStartDateTime"], "kept in UTC")
	assert.Equal(t, "Back on 4 January.", replies["internalReplyMessage"])
	assert.Contains(t, replies["externalReplyMessage"], "Kind regards", "what was not sent is kept")

	// It reads back; summer time shows in the conversion.
	r = proxy(s, "PATCH", "/v1.0/me/mailboxSettings", `{"automaticRepliesSetting":{"scheduledStartDateTime":{"dateTime":"2027-07-01T09:00:00","timeZone":"Europe/London"},"scheduledEndDateTime":{"dateTime":"2027-07-10T09:00:00","timeZone":"Europe/London"}}}`)
	require.Equal(t, 200, r.status, string(r.body))
	replies = get(s, "/v1.0/me/mailboxSettings?$select=automaticRepliesSetting").json(t)["automaticRepliesSetting"].(map[string]any)
	assert.Equal(t, "2027-07-01T08:00:00.0000000", replies["scheduledStartDateTime"].(map[string]any)["dateTime"])
	assert.Equal(t, "scheduled", replies["status"])

	for _, tc := range []struct{ body, code string }{
		{``, "BadRequest"},
		{`{"automaticRepliesSetting":{"status":"on"}}`, "RequestBodyRead"},
		{`{"automaticRepliesSetting":{"externalAudience":"everyone"}}`, "RequestBodyRead"},
		{`{"automaticRepliesSetting":{"scheduledEndDateTime":{"dateTime":"2027-07-01T08:00:00","timeZone":"UTC"}}}`, "ErrorInvalidScheduledOofDuration"},
		{`{"automaticRepliesSetting":{"scheduledStartDateTime":{"dateTime":"2026-11-01T08:00:00","timeZone":"UTC"},"scheduledEndDateTime":{"dateTime":"2026-11-02T08:00:00","timeZone":"UTC"}}}`, "ErrorInvalidScheduledOofDuration"},
		{`{"automaticRepliesSetting":{"scheduledStartDateTime":{"dateTime":"next monday","timeZone":"UTC"}}}`, "RequestBodyRead"},
		{`{"automaticRepliesSetting":{"scheduledStartDateTime":{"dateTime":"2027-07-01T08:00:00","timeZone":"Mars/Olympus"}}}`, "TimeZoneNotSupportedException"},
		{`{"automaticReplies":{"status":"disabled"}}`, "RequestBodyRead"},
		{`{"userPurpose":"shared"}`, "RequestBodyRead"},
		{`{"timeZone":"Atlantis Standard Time"}`, "InvalidTimeZone"},
		{`{"workingHours":{"startTime":"08"}}`, "RequestBodyRead"},
		{`{"workingHours":{"startTime":"18:00:00"}}`, "ErrorInvalidTimeSettings"},
		{`{"workingHours":{"daysOfWeek":["Funday"]}}`, "InvalidArguments"},
	} {
		r := proxy(s, "PATCH", "/v1.0/me/mailboxSettings", tc.body)
		assert.Equal(t, 400, r.status, tc.body)
		assert.Equal(t, tc.code, r.code(t), tc.body)
	}
	after := get(s, "/v1.0/me/mailboxSettings").json(t)
	assert.Equal(t, "2027-07-01T08:00:00.0000000", after["automaticRepliesSetting"].(map[string]any)["scheduledStartDateTime"].(map[string]any)["dateTime"], "a refused PATCH changes nothing")
	assert.Equal(t, "09:00:00.0000000", after["workingHours"].(map[string]any)["startTime"])

	// Disabling keeps the schedule and the messages for next time.
	r = proxy(s, "PATCH", "/v1.0/me/mailboxSettings", `{"automaticRepliesSetting":{"status":"disabled"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	assert.Equal(t, "Back on 4 January.", r.json(t)["automaticRepliesSetting"].(map[string]any)["internalReplyMessage"])
}

func TestPatchOtherMailboxSettings(t *testing.T) {
	s := newSim(t)
	r := proxy(s, "PATCH", "/v1.0/me/mailboxSettings", `{"timeZone":"Europe/Berlin","language":{"locale":"de-DE"},"workingHours":{"daysOfWeek":["Monday","Tuesday"],"endTime":"16:00:00"}}`)
	require.Equal(t, 200, r.status, string(r.body))
	m := r.json(t)
	assert.Equal(t, "Europe/Berlin", m["timeZone"])
	assert.Equal(t, map[string]any{"locale": "de-DE", "displayName": "German (Germany)"}, m["language"])
	assert.Equal(t, map[string]any{
		"daysOfWeek": []any{"monday", "tuesday"}, "startTime": "09:00:00.0000000", "endTime": "16:00:00.0000000",
		"timeZone": map[string]any{"name": "GMT Standard Time"},
	}, m["workingHours"], "working hours change only where set")
	assert.NotContains(t, m, "automaticRepliesSetting")
}

func TestMailboxSettingsScopes(t *testing.T) {
	s := newSim(t, func(o *Options) { o.Scopes = []string{"User.Read", "MailboxSettings.Read"} })
	assert.Equal(t, 200, get(s, "/v1.0/me/mailboxSettings").status)
	r := proxy(s, "PATCH", "/v1.0/me/mailboxSettings", `{"automaticRepliesSetting":{"status":"alwaysEnabled"}}`)
	assert.Equal(t, 403, r.status)
	assert.Equal(t, "ErrorAccessDenied", r.code(t))

	s.SetScopes("MailboxSettings.ReadWrite")
	assert.Equal(t, 200, get(s, "/v1.0/me/mailboxSettings").status, "ReadWrite includes Read")
	assert.Equal(t, 200, proxy(s, "PATCH", "/v1.0/me/mailboxSettings", `{"automaticRepliesSetting":{"status":"alwaysEnabled"}}`).status)

	s.SetScopes("User.Read", "Mail.ReadWrite")
	assert.Equal(t, "ErrorAccessDenied", get(s, "/v1.0/me/mailboxSettings").code(t))
	assert.Equal(t, 405, proxy(s, "DELETE", "/v1.0/me/mailboxSettings", "").status)
}
