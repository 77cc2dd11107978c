package tools

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Mail times are shown in the user's time zone, the one their mailbox
// settings name, in texts and structured content alike; without it, in
// UTC, with a line that says why.

// userZone is the zone a call shows mail times in.
type userZone struct {
	name string // IANA: Europe/Berlin, or UTC
	loc  *time.Location
	note string // why the times are UTC, when the user's zone is unknown
}

// How long a lookup's answer is kept: a zone until the user may have
// changed it; a failure only briefly, so that the next calls try again.
const (
	zoneKeep  = time.Hour
	zoneRetry = time.Minute
)

// utcBecause is UTC for want of the user's zone, with why.
func utcBecause(why string) userZone {
	return userZone{name: "UTC", loc: time.UTC, note: "Times are UTC: " + why + "."}
}

// noZoneScope is why times are UTC on a connection that may not read the
// mailbox settings.
const noZoneScope = "your time zone needs MailboxSettings.Read, which this connection lacks"

// userZoneOf starts finding the user's zone beside the call's own request,
// unless the server knows it already; the function it returns waits for
// it (call it even after the call's own request failed).
func userZoneOf(ctx context.Context, c *Call) func() userZone {
	if !c.Granted.HasAny(getMailboxSettings.Scopes...) {
		return func() userZone { return utcBecause(noZoneScope) }
	}
	return aside(c, &c.memos().zones, func() (userZone, time.Duration) {
		name, err := mailboxTimeZone(ctx, c)
		if err != nil {
			return zoneFailure(ctx, err)
		}
		return zoneNamed(name), zoneKeep
	})
}

// zoneNamed is the zone the mailbox settings name (Windows or IANA).
func zoneNamed(name string) userZone {
	if strings.TrimSpace(name) == "" {
		return userZone{name: "UTC", loc: time.UTC} // none set: Outlook shows UTC
	}
	iana, ok := ianaZone(name)
	loc, err := time.LoadLocation(iana)
	if !ok || err != nil {
		return utcBecause(fmt.Sprintf("your time zone %q is not one this server knows", oneLine(name, 60)))
	}
	return userZone{name: iana, loc: loc}
}

// zoneFailure is UTC when the mailbox settings could not be read, and how
// long to keep that answer.
func zoneFailure(ctx context.Context, err error) (userZone, time.Duration) {
	e, ok := nango.AsError(err)
	switch {
	case ctx.Err() != nil:
		return utcBecause("your time zone could not be read in time"), -1
	case ok && e.Kind == nango.KindAccessDenied:
		return utcBecause(noZoneScope), zoneRetry
	case ok:
		return utcBecause(fmt.Sprintf("your time zone could not be read (%s %d %s)", e.Source, e.Status, e.Code)), zoneRetry
	}
	return utcBecause("your time zone could not be read"), zoneRetry
}

// at is a Graph time (RFC 3339, UTC) in the zone, RFC 3339 with the zone's
// offset; anything else unchanged.
func (z userZone) at(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || z.loc == nil {
		return s
	}
	return t.In(z.loc).Format(time.RFC3339)
}

// label names, once per answer, the zone of the times it shows: "UTC", or
// the zone and each offset its times have ("Europe/London, UTC+00:00";
// "Europe/Berlin, UTC+02:00/+01:00" across the end of summer time).
func (z userZone) label(times ...string) string {
	if z.loc == nil || z.loc == time.UTC {
		return "UTC"
	}
	var offsets []string
	for _, s := range times {
		if t, err := time.Parse(time.RFC3339, s); err == nil && !slices.Contains(offsets, t.Format("-07:00")) {
			offsets = append(offsets, t.Format("-07:00"))
		}
	}
	if len(offsets) == 0 {
		return z.name
	}
	return z.name + ", UTC" + strings.Join(offsets, "/")
}

// noteLine is the zone's note as a line of text after the first ("" when
// the times are in the user's zone).
func (z userZone) noteLine() string { return noteLine(z.note) }

// noteLine is note on a line of its own; "" for none.
func noteLine(note string) string {
	if note == "" {
		return ""
	}
	return "\n" + note
}
