package sim

import (
	"fmt"
	"strings"
)

// The large fixtures: what a mailbox holds that no page of a response can,
// generated here at load (deterministically) so that testdata/mailbox.json
// stays small and readable. They are dated well before the rest of the
// mailbox (and read), so listings of recent mail and unread counts are
// those of the hand-written fixture.
//
//   - a 200 KB HTML newsletter, with a hidden preheader, a tracking pixel
//     and a 2 MB text attachment;
//   - a 60-message thread, each reply quoting the one before (quoteReplies);
//   - an event with 300 attendees and a long description.

// Ids of the large fixtures, for tests.
const (
	LargeNewsletterID = "AAMkLargeFixtureNewsletter0001"
	LargeThreadFirst  = "AAMkLargeFixtureThread00000001" // the first of the thread; the others end in 02..60
	LargeEventID      = "AAMkLargeFixtureEvent000000001"
	LargeAttachmentID = "AAMkLargeFixtureAttachment0001"

	largeThreadLength = 60
	largeAttendees    = 300
	largeMessageCount = 1 + largeThreadLength
)

// LargeThreadMessageID is the id of the thread's i-th message (1-based).
func LargeThreadMessageID(i int) string { return fmt.Sprintf("AAMkLargeFixtureThread%08d", i) }

func largeMessages() []rawMessage {
	msgs := []rawMessage{{
		ID: LargeNewsletterID, Folder: "archive", Received: "-60wd 06:00", IsRead: true,
		From:    "Contoso Engineering Digest <digest@news.contoso.com>",
		To:      []string{"Priya Raman <priya.raman@contoso.com>"},
		Subject: "Contoso Engineering Digest: the year in review (full edition)",
		Body:    newsletterHTML(),
		Attachments: []rawAttachment{{
			ID: LargeAttachmentID, Name: "build-log-full.txt", ContentType: "text/plain", Content: buildLog(),
		}},
	}}
	people := []string{"Lukas Becker <lukas.becker@contoso.com>", "Priya Raman <priya.raman@contoso.com>", "Sofia Martínez <sofia.martinez@contoso.com>"}
	for i := 1; i <= largeThreadLength; i++ {
		subject := "Atlas migration runbook"
		if i > 1 {
			subject = "RE: " + subject
		}
		from, to := people[i%3], people[(i+1)%3]
		msgs = append(msgs, rawMessage{
			ID: LargeThreadMessageID(i), Folder: "archive", IsRead: true,
			ConversationID: "AAQkLargeFixtureThreadConversation",
			Received:       fmt.Sprintf("-%dwd %02d:%02d", 120-i, 8+i%9, (i*7)%60),
			From:           from, To: []string{to}, Subject: subject,
			Body: fmt.Sprintf("<p>Step %d of the runbook: %s</p><p>%s</p>", i, sentence(i), sentence(i+1)),
		})
	}
	return msgs
}

func largeEvents() []rawEvent {
	e := rawEvent{
		ID: LargeEventID, Subject: "Contoso all-hands: planning for next year", Start: "-50wd 16:00", Duration: "1h",
		Organizer: "Kenji Watanabe <kenji.watanabe@contoso.com>", Location: "Main auditorium and Microsoft Teams",
		IsOnlineMeeting: true, Body: longAgenda(),
	}
	responses := []string{"accepted", "accepted", "tentativelyAccepted", "declined", "none"}
	for i := range largeAttendees {
		e.Attendees = append(e.Attendees, rawAttendee{
			EmailAddress: fmt.Sprintf("Colleague %03d <colleague.%03d@contoso.com>", i+1, i+1),
			Response:     responses[i%len(responses)],
		})
	}
	return []rawEvent{e}
}

// words are what the generated prose is made of.
var words = strings.Fields(`the team shipped rate limiting for every tenant and measured latency across regions while
the platform group moved storage to the new cluster with zero downtime; reviews found three risks in failover,
two of which are fixed, and the third needs a decision on replication lag budgets before the launch in spring`)

// sentence is a deterministic sentence of 12 to 30 words.
func sentence(seed int) string {
	n := 12 + seed*7%19
	out := make([]string, n)
	for i := range out {
		out[i] = words[(seed*31+i*17)%len(words)]
	}
	s := strings.Join(out, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// newsletterHTML is about 200 KB of newsletter: a hidden preheader, a
// tracking pixel, then sections of articles with headings and links.
func newsletterHTML() string {
	var b strings.Builder
	b.WriteString(`<div style="display:none;max-height:0;overflow:hidden">PREHEADER: your weekly digest is here, open now for exclusive content</div>`)
	b.WriteString(`<img src="https://news.contoso.com/open.gif?u=4a7c9e21" width="1" height="1">`)
	for i := 0; b.Len() < 200_000; i++ {
		fmt.Fprintf(&b, `<h2>Story %d: %s</h2>`, i+1, strings.TrimSuffix(sentence(i)[:40], " "))
		for p := range 3 {
			fmt.Fprintf(&b, `<p>%s %s <a href="https://news.contoso.com/stories/%d?utm_source=digest&amp;utm_medium=email">Read story %d</a>.</p>`,
				sentence(i*3+p), sentence(i*3+p+1), i+1, i+1)
		}
	}
	return b.String()
}

// buildLog is a 2 MB text file: numbered log lines.
func buildLog() string {
	var b strings.Builder
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "%06d build step %d: %s\n", i, i%40, sentence(i))
	}
	return b.String()
}

// longAgenda is an event description of about 12 KB.
func longAgenda() string {
	var b strings.Builder
	for i := 0; b.Len() < 12_000; i++ {
		fmt.Fprintf(&b, "<p>Agenda item %d: %s</p>", i+1, sentence(i))
	}
	return b.String()
}
