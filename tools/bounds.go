package tools

import (
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Every argument is bounded before anything reaches Graph: a string by its
// length in characters, a list by its number of items. A field's `max` tag
// sets its bound; a field without one gets the default of its kind, so a
// new argument is bounded without anyone thinking of it. The bounds stay
// out of the schemas (every token of tools/list is paid on every request):
// the error names the argument and its bound instead.
const (
	defaultMaxLength = 1000
	defaultMaxItems  = 100

	maxBodyChars    = 1 << 20 // message and event bodies: 1 MiB of text
	maxCommentChars = 100_000 // comments and automatic replies
	maxNameChars    = 255     // names of people and files
)

// checkBounds checks the arguments v points to against their bounds.
func checkBounds(v any) error {
	return checkStruct(reflect.ValueOf(v).Elem(), "")
}

func checkStruct(v reflect.Value, prefix string) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := checkStruct(v.Field(i), prefix); err != nil {
				return err
			}
			continue
		}
		bound := 0
		if tag := f.Tag.Get("max"); tag != "" {
			n, err := strconv.Atoi(tag)
			if err != nil || n <= 0 {
				panic(fmt.Sprintf("%s.%s: max tag %q is not a positive integer", t, f.Name, tag))
			}
			bound = n
		}
		if err := checkValue(v.Field(i), prefix+cmp.Or(name, f.Name), bound); err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks one value found at arg; bound is its field's max tag
// (0: the default), which applies to the value itself, not to the items
// of a list.
func checkValue(v reflect.Value, arg string, bound int) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(v.Elem(), arg, bound)
	case reflect.String:
		limit := cmp.Or(bound, defaultMaxLength)
		s := v.String()
		// Counting characters is linear: a string with 4 bytes for every
		// allowed character is too long whatever it holds.
		if len(s) > limit && (len(s) > 4*limit || utf8.RuneCountInString(s) > limit) {
			return argError(arg, "is too long: at most %d characters", limit)
		}
	case reflect.Slice:
		limit := cmp.Or(bound, defaultMaxItems)
		if v.Len() > limit {
			return argError(arg, "has too many items: at most %d", limit)
		}
		for i := range v.Len() {
			if err := checkValue(v.Index(i), fmt.Sprintf("%s[%d]", arg, i), 0); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if arg != "" {
			arg += "."
		}
		return checkStruct(v, arg)
	}
	return nil
}

// checkRanges refuses an integer argument that was given but lies outside
// the minimum and maximum its schema declares (its jsonschema tag). It
// needs the arguments as sent: an omitted argument and 0 decode alike, and
// an omitted one gets its default (checkLimit), while limit: 0 is out of
// range like any other value below 1. One place for every tool, so the
// schema and the check cannot drift apart.
func checkRanges(v any, present map[string]json.RawMessage) error {
	return checkStructRanges(reflect.ValueOf(v).Elem(), present)
}

func checkStructRanges(v reflect.Value, present map[string]json.RawMessage) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			if err := checkStructRanges(v.Field(i), present); err != nil {
				return err
			}
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		if _, given := present[name]; !given || name == "" || !fv.CanInt() {
			continue
		}
		minimum, hasMin := tagInt(f, "minimum")
		maximum, hasMax := tagInt(f, "maximum")
		switch n := fv.Int(); {
		case hasMin && hasMax && (n < minimum || n > maximum):
			return argError(name, "must be between %d and %d, not %d", minimum, maximum, n)
		case hasMin && n < minimum:
			return argError(name, "must be %d or more, not %d", minimum, n)
		case hasMax && n > maximum:
			return argError(name, "must be %d or less, not %d", maximum, n)
		}
	}
	return nil
}

// tagInt reads key=N from f's jsonschema tag.
func tagInt(f reflect.StructField, key string) (int64, bool) {
	for part := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
		if v, ok := strings.CutPrefix(part, key+"="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				panic(fmt.Sprintf("%s: jsonschema %s=%q is not an integer", f.Name, key, v))
			}
			return n, true
		}
	}
	return 0, false
}
