package tools

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/outlook-mcp/outlook-mcp/handles"
)

// Graph ids are long (a message id costs the model about 48 tokens, an
// attachment's 125) and easy to corrupt when copied. The model sees short
// handles instead (package handles), declared once per field by a tag:
//
//	ID string `json:"id" handle:"m"`          a result field: shown as a handle
//	ID string `json:"id" handle:"md"`         an argument: takes a handle of these kinds, or a Graph id
//
// Arguments are resolved before the handler runs, results shortened after
// it: handlers only ever see Graph ids.

// handleField is one tagged string field of a value.
type handleField struct {
	value *string
	kinds string // the tag: the kinds it names (results: one)
	arg   string // its JSON name, for errors
}

// handleFields lists the tagged string fields reachable from v: through
// pointers, embedded and nested structs, slices and arrays.
func handleFields(v reflect.Value, out []handleField) []handleField {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = handleFields(v.Elem(), out)
		}
	case reflect.Slice, reflect.Array:
		if !hasHandles(v.Type().Elem()) {
			return out
		}
		for i := range v.Len() {
			out = handleFields(v.Index(i), out)
		}
	case reflect.Struct:
		if !hasHandles(v.Type()) {
			return out
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if kinds := f.Tag.Get("handle"); kinds != "" && f.Type.Kind() == reflect.String && v.Field(i).CanSet() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				out = append(out, handleField{value: v.Field(i).Addr().Interface().(*string), kinds: kinds, arg: name})
				continue
			}
			out = handleFields(v.Field(i), out)
		}
	}
	return out
}

var typesWithHandles sync.Map // reflect.Type -> bool

// hasHandles reports whether a value of t can hold a tagged field, so
// that walking results skips what cannot (bodies, lists of people). The
// answer is made whole before it is kept: calls running at once never read
// a half-made one, and a type met again inside a cycle, answered there
// only provisionally, is not kept.
func hasHandles(t reflect.Type) bool {
	if known, ok := typesWithHandles.Load(t); ok {
		return known.(bool)
	}
	found := canHoldHandles(t, map[reflect.Type]bool{})
	typesWithHandles.Store(t, found)
	return found
}

func canHoldHandles(t reflect.Type, seen map[reflect.Type]bool) bool {
	if known, ok := typesWithHandles.Load(t); ok {
		return known.(bool)
	}
	if seen[t] {
		return false // a recursive type: its other fields answer
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return canHoldHandles(t.Elem(), seen)
	case reflect.Interface:
		return true
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && (f.Tag.Get("handle") != "" || canHoldHandles(f.Type, seen)) {
				return true
			}
		}
	}
	return false
}

// scope is whose handles a call mints and resolves: its connection's.
func (c *Call) scope() handles.Scope {
	return handles.Scope{Integration: c.Conn.IntegrationID(), Connection: c.Conn.ID()}
}

// idsShown is a result that shows something made of its ids besides the
// tagged fields (a resource URI): it remakes that from the handles.
type idsShown interface{ idsShortened() }

// shortenIDs replaces the Graph ids of a tool's result by their handles.
// On an error the result keeps its full ids, all of them.
func shortenIDs(ctx context.Context, c *Call, out Result) error {
	var fields []handleField
	for _, f := range handleFields(reflect.ValueOf(out), nil) {
		// A well-known folder name (search_mail's suggestions) is short already.
		if *f.value != "" && !(f.kinds[0] == 'f' && slices.Contains(wellKnownFolders, strings.ToLower(*f.value))) {
			fields = append(fields, f)
		}
	}
	items := make([]handles.Item, 0, len(fields))
	for _, f := range fields {
		items = append(items, handles.Item{Kind: f.kinds[0], ID: *f.value})
	}
	if len(items) == 0 {
		return nil
	}
	short, err := c.handles.Mint(ctx, c.scope(), items)
	if err != nil {
		return err
	}
	for i, f := range fields {
		if short[i] != "" {
			*f.value = short[i]
		}
	}
	if r, ok := out.(idsShown); ok {
		r.idsShortened()
	}
	return nil
}

// resolveIDs replaces the handles among a call's arguments by the Graph
// ids they stand for. What is not a handle stays as given, for itemID to
// check: a Graph id, a well-known folder name, or a mistake.
func resolveIDs(ctx context.Context, c *Call, args any) error {
	for _, f := range handleFields(reflect.ValueOf(args), nil) {
		h := strings.TrimSpace(*f.value)
		if !handles.Valid(h) {
			continue
		}
		if !strings.ContainsRune(f.kinds, rune(h[0])) {
			return argError(f.arg, "%s is %s handle, not %s", h, article(handles.Kinds[h[0]]), article(handles.Kinds[f.kinds[0]]))
		}
		id, ok, err := c.handles.Resolve(ctx, c.scope(), h)
		switch {
		case err != nil:
			c.log.WarnContext(ctx, "handle store", "err", err)
			return refuse("The id %s could not be looked up just now (the server's store of short ids did not answer): try again, or pass the full id.", h)
		case !ok:
			return argError(f.arg, "unknown handle %s — it may have expired or belong to another account; search again (%s) for a fresh id", h, findAgain[h[0]])
		}
		*f.value = id
	}
	return nil
}

// findAgain names the tools that give a kind's ids.
var findAgain = map[byte]string{
	'm': "search_mail, get_thread", 'd': "search_mail with folder drafts", 'a': "list_attachments",
	't': "search_mail", 'e': "list_events", 'k': "list_calendars", 'c': "find_contacts", 'f': "list_mail_folders",
}

func article(noun string) string {
	if strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}
