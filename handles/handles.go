// Package handles gives Graph ids short names that last: a handle such as
// m7fk2q9xa3 stands for one Graph id of one Nango connection, across
// restarts of the server and across its replicas.
//
// A handle is deterministic: its kind letter and the first 45 bits of an
// HMAC-SHA256 of the id, keyed by the connection. Processes that share a
// store therefore mint the same handle for the same id without talking to
// each other; the store only remembers the way back, handle to id, per
// connection, so a handle of one connection means nothing on another.
package handles

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Len is the length of every handle: a kind letter and 9 characters of
// Alphabet.
const Len = 10

// Alphabet is Crockford's base32 in lower case: no i, l, o or u, so a
// handle has no letters to misread, and none of Graph's well-known folder
// names (inbox, drafts, archive, syncissues...) can have a handle's shape.
const Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// Kinds are the kind letters, each naming what its handles stand for.
var Kinds = map[byte]string{
	'm': "message",
	'd': "draft",
	'e': "event",
	'a': "attachment",
	'c': "contact",
	'f': "folder",
	'k': "calendar",
	't': "conversation",
}

// TTL is how long a handle lasts once it was last minted or resolved. A
// conversation that comes back to a message within three months finds it;
// what nobody used for that long is forgotten, which bounds the store by
// use rather than by a row cap that a burst of listings could make evict
// the handles a live conversation still holds.
const TTL = 90 * 24 * time.Hour

// refreshAfter is how stale a handle's last use may be before using it is
// written down: most calls then only read the store.
const refreshAfter = 24 * time.Hour

// Scope is whose handles: one Nango connection of one integration.
type Scope struct {
	Integration string
	Connection  string
}

// key is the scope as it appears in storage and keys the hash: a digest,
// so user data never shapes a storage key.
func (s Scope) key() string {
	sum := sha256.Sum256([]byte(strconv.Itoa(len(s.Integration)) + ":" + s.Integration + s.Connection))
	return hex.EncodeToString(sum[:16])
}

// Item is an id to name and the kind of thing it is.
type Item struct {
	Kind byte
	ID   string
}

// Store mints and resolves the handles of every connection.
type Store interface {
	// Mint returns the handle of each item, in order. An item whose handle
	// already stands for another id of the scope (a collision: one in
	// 35 trillion per pair) gets "": it keeps its full id.
	Mint(ctx context.Context, s Scope, items []Item) ([]string, error)
	// Resolve returns the id handle stands for in s; ok is false when the
	// handle is unknown there, or expired.
	Resolve(ctx context.Context, s Scope, handle string) (id string, ok bool, err error)
	Close() error
}

// Valid reports whether s has the shape of a handle: Len characters, a
// kind letter, then Alphabet only. Graph ids are far longer, and no
// well-known folder name has this shape.
func Valid(s string) bool {
	if len(s) != Len {
		return false
	}
	if _, ok := Kinds[s[0]]; !ok {
		return false
	}
	for i := 1; i < len(s); i++ {
		if strings.IndexByte(Alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

var encoding = base32.NewEncoding(Alphabet).WithPadding(base32.NoPadding)

// digest is the keyed hash; tests replace it to force collisions.
var digest = func(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// handle is item's handle in the scope whose key is scopeKey.
func handle(scopeKey string, it Item) string {
	sum := digest([]byte(scopeKey), append([]byte{it.Kind}, it.ID...))
	return string(it.Kind) + encoding.EncodeToString(sum[:6])[:Len-1]
}

// plan is a batch to mint: the distinct handles asked for and, for each,
// the id it should stand for.
type plan struct {
	scope   string
	handles []string          // per item
	ids     map[string]string // handle -> id, distinct handles
	order   []string          // the distinct handles, in order of first appearance
	items   []Item
}

func newPlan(s Scope, items []Item) *plan {
	p := &plan{scope: s.key(), handles: make([]string, len(items)), ids: map[string]string{}, items: items}
	for i, it := range items {
		h := handle(p.scope, it)
		p.handles[i] = h
		if _, seen := p.ids[h]; !seen {
			p.ids[h] = it.ID // of two ids of one batch with one handle, the first is proposed
			p.order = append(p.order, h)
		}
	}
	return p
}

// result gives each item its handle where the store holds the item's id
// under it (held: handle -> id), "" elsewhere: the item keeps its id.
func (p *plan) result(held map[string]string) []string {
	for i, h := range p.handles {
		if held[h] != p.items[i].ID {
			p.handles[i] = ""
		}
	}
	return p.handles
}
