package tools

import (
	"strconv"
	"strings"
	"time"
)

// Times in texts are compact wall-clock times in the zone the text names:
// "Wed 25 Nov 09:12", about half the tokens of RFC 3339, which structured
// content keeps.

// shortTime renders an RFC 3339 time, in its own offset, as "Wed 25 Nov
// 2026 09:12".
func shortTime(s string) string { return textTime(s, 0) }

// textTime renders an RFC 3339 time (in its own offset) or a date for the
// text, compactly: "Wed 25 Nov 09:12", "Sat 28 Nov"; with the year unless
// it is year. Structured content keeps RFC 3339.
func textTime(s string, year int) string {
	t, err := time.Parse(time.RFC3339, s)
	layout := "Mon 2 Jan 15:04"
	if err != nil {
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			return s
		}
		layout = "Mon 2 Jan"
	}
	if t.Year() != year {
		layout = strings.Replace(layout, "Jan", "Jan 2006", 1)
	}
	return t.Format(layout)
}

// listTimes renders the times of a list: the year on the first line
// and where it changes, the day only where it changes ("Wed 25 Nov 2026
// 11:25", then "10:00", then "Tue 24 Nov 18:10"). Year -1 names the year
// on every line.
type listTimes struct {
	year int
	day  string // the date of the line above, as its time gives it
}

func (l *listTimes) next(s string) string {
	year := l.year
	if year == 0 {
		l.year, year = yearOf(s), -1
	}
	full := textTime(s, year)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return full // a date
	}
	if day := t.Format(time.DateOnly); day != l.day {
		l.day = day
		return full
	}
	return t.Format("15:04")
}

// span renders an event's start and end: "Mon 30 Nov 09:30–09:45", or
// "Sat 28 Nov all day" (all-day ends are exclusive dates).
func (l *listTimes) span(start, end string, allDay bool) string {
	from := l.next(start)
	if allDay {
		first, err1 := time.Parse(time.DateOnly, start)
		after, err2 := time.Parse(time.DateOnly, end)
		if err1 != nil || err2 != nil || !after.After(first.AddDate(0, 0, 1)) {
			return from + " all day"
		}
		return from + " – " + textTime(after.AddDate(0, 0, -1).Format(time.DateOnly), l.year) + " all day"
	}
	s, err1 := time.Parse(time.RFC3339, start)
	e, err2 := time.Parse(time.RFC3339, end)
	if err1 == nil && err2 == nil && s.Format(time.DateOnly) == e.Format(time.DateOnly) {
		return from + "–" + e.Format("15:04")
	}
	return from + " – " + textTime(end, l.year)
}

// offsetOf names the offset of an RFC 3339 time: "UTC", "UTC+01:00".
func offsetOf(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if _, off := t.Zone(); err != nil || off == 0 {
		return "UTC"
	}
	return "UTC" + t.Format("-07:00")
}

// yearOf is the year of an RFC 3339 time or a date (0 if neither): the
// year a list's times leave out.
func yearOf(s string) int {
	if len(s) >= 4 {
		if y, err := strconv.Atoi(s[:4]); err == nil {
			return y
		}
	}
	return 0
}
