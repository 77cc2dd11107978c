package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// User is one more connection of the simulated Nango environment: another
// person, with a mailbox of their own derived from the fixture (their name
// and address in the profile, their name in every message and event
// subject) and their own granted scopes. Tests use it to show that each
// caller reaches only their own mailbox.
type User struct {
	ConnectionID string
	// Name is the person's display name, e.g. "Ada Lovelace"; their address
	// is made from it (ada.lovelace@contoso.com), and every message and
	// event subject starts with "[Name] ".
	Name   string
	Scopes []string // default DefaultScopes
}

// Email is the address of the user's mailbox.
func (u User) Email() string {
	return strings.ToLower(strings.Join(strings.Fields(u.Name), ".")) + "@contoso.com"
}

// SubjectPrefix starts every subject in the user's mailbox.
func (u User) SubjectPrefix() string { return "[" + u.Name + "] " }

// newUsers builds one simulator per extra user, sharing the environment's
// options (secret key, integration, clock) but nothing else.
func newUsers(fixture []byte, opts Options) (map[string]*Sim, error) {
	users := map[string]*Sim{}
	for _, u := range opts.Users {
		if u.ConnectionID == "" || u.ConnectionID == opts.ConnectionID || users[u.ConnectionID] != nil {
			return nil, fmt.Errorf("sim: user connection id %q is empty or already used", u.ConnectionID)
		}
		if strings.TrimSpace(u.Name) == "" {
			return nil, fmt.Errorf("sim: user %q needs a name", u.ConnectionID)
		}
		o := opts
		o.ConnectionID, o.Users = u.ConnectionID, nil
		o.Scopes = u.Scopes
		if o.Scopes == nil {
			o.Scopes = DefaultScopes
		}
		box, err := loadMailbox(fixture, o.Now().UTC())
		if err != nil {
			return nil, fmt.Errorf("sim: fixture: %w", err)
		}
		box.personalize(u)
		users[u.ConnectionID] = &Sim{opts: o, box: box, scopes: slices.Clone(o.Scopes)}
	}
	return users, nil
}

// personalize makes the fixture's mailbox u's.
func (b *mailbox) personalize(u User) {
	me := *b.me
	sum := sha256.Sum256([]byte(u.ConnectionID))
	h := hex.EncodeToString(sum[:16])
	me.ID = h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
	me.DisplayName = u.Name
	me.GivenName, me.Surname, _ = strings.Cut(u.Name, " ")
	mail := u.Email()
	me.Mail, me.UserPrincipalName = &mail, mail
	b.me = &me
	for _, m := range b.messages {
		m.subject = u.SubjectPrefix() + m.subject
	}
	for _, e := range b.events {
		e.subject = u.SubjectPrefix() + e.subject
	}
}

// user is the simulator of connection id: s itself, one of its Users, or
// nil for a connection Nango does not know.
func (s *Sim) user(id string) *Sim {
	if id == s.opts.ConnectionID {
		return s
	}
	return s.users[id]
}

// User is the simulator behind one of Options.Users (to change its scopes
// or inject faults), or nil.
func (s *Sim) User(connectionID string) *Sim {
	return s.users[connectionID]
}
