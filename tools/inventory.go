package tools

import (
	"fmt"
	"slices"
	"strings"
)

// Toolsets group the tools; a deployment can offer some of them.
const (
	Mail     = "mail"
	Calendar = "calendar"
	Contacts = "contacts"
	Mailbox  = "mailbox"
)

// Toolsets lists every toolset, in the order tools are listed.
var Toolsets = []string{Mail, Calendar, Contacts, Mailbox}

// All is the inventory: every tool the server offers, with its toolset.
// Adding a tool is one declaration in its domain file and one line here.
func All() []Tool {
	return []Tool{
		searchMail.in(Mail),
		getMessage.in(Mail),
		sendMail.in(Mail),
		replyToMessage.in(Mail),
		forwardMessage.in(Mail),
		createDraft.in(Mail),
		sendDraft.in(Mail),
		listAttachments.in(Mail),
		readAttachment.in(Mail),
		listMailFolders.in(Mail),
		getThread.in(Mail),
		moveMessage.in(Mail),
		updateMessage.in(Mail),
		deleteMessage.in(Mail),
		listEvents.in(Calendar),
		listCalendars.in(Calendar),
		getEvent.in(Calendar),
		createEvent.in(Calendar),
		updateEvent.in(Calendar),
		cancelEvent.in(Calendar),
		respondToEvent.in(Calendar),
		getFreeBusy.in(Calendar),
		findMeetingTimes.in(Calendar),
		findContacts.in(Contacts),
		getContact.in(Contacts),
		createContact.in(Contacts),
		getMailboxSettings.in(Mailbox),
		setAutomaticReplies.in(Mailbox),
		getProfile.in(Mailbox),
	}
}

func (t Tool) in(toolset string) Tool {
	t.Toolset = toolset
	return t
}

// Selection is which tools a deployment offers.
type Selection struct {
	Toolsets []string // empty: all
	Tools    []string // an explicit list of tool names; overrides Toolsets
	ReadOnly bool     // only tools that change nothing (readOnlyHint)
}

// Select applies a selection to the inventory. get_profile stays in every
// selection: it is how a user finds out why a tool is refused.
func Select(all []Tool, sel Selection) ([]Tool, error) {
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Name
	}
	if err := known("toolset", sel.Toolsets, Toolsets); err != nil {
		return nil, err
	}
	if err := known("tool", sel.Tools, names); err != nil {
		return nil, err
	}
	var out []Tool
	for _, t := range all {
		chosen := t.Name == getProfile.Name
		switch {
		case len(sel.Tools) > 0:
			chosen = chosen || slices.Contains(sel.Tools, t.Name)
		case len(sel.Toolsets) > 0:
			chosen = chosen || slices.Contains(sel.Toolsets, t.Toolset)
		default:
			chosen = true
		}
		if chosen && (!sel.ReadOnly || t.Hints.ReadOnly) {
			out = append(out, t)
		}
	}
	return out, nil
}

func known(kind string, given, valid []string) error {
	for _, g := range given {
		if !slices.Contains(valid, g) {
			return fmt.Errorf("unknown %s %q (known: %s)", kind, g, strings.Join(valid, ", "))
		}
	}
	return nil
}
