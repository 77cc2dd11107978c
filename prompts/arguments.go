package prompts

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The argument parsers. Each gets the trimmed value ("" when not given) and
// returns what the prompt's text shows.

// text is free text with a default.
func text(def string) func(string, time.Time) (string, error) {
	return func(v string, _ time.Time) (string, error) {
		if v == "" {
			return def, nil
		}
		return v, nil
	}
}

var (
	span  = regexp.MustCompile(`^([1-9]\d{0,3})([hdw])$`)
	units = map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}
)

// since is a start time: a span back from now (24h, 3d, 2w), a date or an
// RFC 3339 time. It shows as what search_mail's received_after takes.
func since(v string, now time.Time) (string, error) {
	if v == "" {
		v = "24h"
	}
	t, shown, err := pointInTime(v, now)
	if err != nil {
		return "", fmt.Errorf("use 24h, 3d, 2w, a date (2026-11-20) or an RFC 3339 time, not %q", v)
	}
	if t.After(now) {
		return "", fmt.Errorf("%s is in the future", v)
	}
	return shown, nil
}

func pointInTime(v string, now time.Time) (t time.Time, shown string, err error) {
	if m := span.FindStringSubmatch(v); m != nil {
		n, _ := strconv.Atoi(m[1])
		t = now.Add(-time.Duration(n) * units[m[2]]).UTC().Truncate(time.Second)
		return t, t.Format(time.RFC3339), nil
	}
	if t, err = time.Parse(time.DateOnly, v); err == nil {
		return t, v, nil // search_mail reads a date as midnight UTC
	}
	t, err = time.Parse(time.RFC3339, v)
	return t, t.UTC().Format(time.RFC3339), err
}

// day is a calendar day: a date, today or tomorrow.
func day(v string, _ time.Time) (string, error) {
	switch v = strings.ToLower(v); v {
	case "":
		return "today", nil
	case "today", "tomorrow":
		return v, nil
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return "", fmt.Errorf("use YYYY-MM-DD, today or tomorrow, not %q", v)
	}
	return v, nil
}

// daysAgo is a whole number of days; it shows as the moment that many days
// before now, for search_mail's received_before.
func daysAgo(v string, now time.Time) (string, error) {
	n := 7
	if v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 365 {
			return "", fmt.Errorf("use a whole number of days from 1 to 365, not %q", v)
		}
	}
	return now.AddDate(0, 0, -n).UTC().Truncate(time.Second).Format(time.RFC3339), nil
}

// minutes is a meeting length: minutes, or a duration such as 1h30m.
func minutes(v string, _ time.Time) (string, error) {
	if v == "" {
		return "30", nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		d, derr := time.ParseDuration(v)
		if derr != nil || d%time.Minute != 0 {
			return "", fmt.Errorf("use minutes (45) or a duration (1h30m), not %q", v)
		}
		n = int(d / time.Minute)
	}
	if n < 5 || n > 1440 {
		return "", fmt.Errorf("use 5 to 1440 minutes, not %q", v)
	}
	return strconv.Itoa(n), nil
}

// messageID is an opaque Graph id: no spaces, which a pasted subject or
// sentence would have.
func messageID(v string, _ time.Time) (string, error) {
	if strings.ContainsFunc(v, unicode.IsSpace) {
		return "", errors.New("use a message id as search_mail returns it (it has no spaces)")
	}
	return v, nil
}

// attendees is a comma- or semicolon-separated list of names or addresses.
func attendees(v string, _ time.Time) (string, error) {
	var list []string
	for _, a := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if a = strings.TrimSpace(a); a != "" {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return "", fmt.Errorf("name at least one person, not %q", v)
	}
	return strings.Join(list, ", "), nil
}
