package tools

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestListTimesAreCompact(t *testing.T) {
	var l listTimes
	assert.Equal(t, "Wed 25 Nov 2026 11:25", l.next("2026-11-25T11:25:03Z"), "the first line in full")
	assert.Equal(t, "09:00", l.next("2026-11-25T09:00:00Z"), "the same day: the time alone")
	assert.Equal(t, "Tue 24 Nov 18:10", l.next("2026-11-24T18:10:00Z"))
	assert.Equal(t, "Wed 31 Dec 2025 23:00", l.next("2025-12-31T23:00:00Z"), "another year is named")
	assert.Equal(t, "Thu 1 Jan all day", l.span("2026-01-01", "2026-01-02", true))

	var ev listTimes
	assert.Equal(t, "Mon 30 Nov 2026 04:30–04:45", ev.span("2026-11-30T04:30:00-05:00", "2026-11-30T04:45:00-05:00", false), "in the times' own offset")
	assert.Equal(t, "23:00 – Tue 1 Dec 01:00", ev.span("2026-11-30T23:00:00-05:00", "2026-12-01T01:00:00-05:00", false))
	assert.Equal(t, "Wed 2 Dec – Thu 3 Dec all day", ev.span("2026-12-02", "2026-12-04", true), "the last day, not the exclusive end")

	one := listTimes{year: -1}
	assert.Equal(t, "Mon 30 Nov 2026 09:30–09:45", one.span("2026-11-30T09:30:00Z", "2026-11-30T09:45:00Z", false), "a single item names its year")
	assert.Equal(t, "not a time", textTime("not a time", 2026), "what cannot be read is shown as it is")
	assert.Equal(t, "UTC-05:00", offsetOf("2026-11-30T04:30:00-05:00"))
	assert.Equal(t, "UTC", offsetOf("2026-11-30T04:30:00Z"))
}
