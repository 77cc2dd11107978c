// Package tools turns Outlook capabilities into MCP tools. A tool is one
// declaration (name, description, argument and result types, annotations,
// required scopes, handler); this file turns such a declaration into an
// mcp-go tool with invopop-generated schemas, the scope gate and the error
// mapping applied the same way to every tool.
package tools

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/outlook-mcp/outlook-mcp/handles"
	"github.com/outlook-mcp/outlook-mcp/nango"
)

// Hints are a tool's MCP annotations. Every tool states all four.
type Hints struct {
	ReadOnly    bool
	Destructive bool
	Idempotent  bool
	OpenWorld   bool
}

// Result is what a tool returns: structured content plus a compact text
// rendering for the model.
type Result interface {
	Text() string
}

// withResources is a Result that also carries MCP content beyond its text
// (an attachment's bytes as an embedded resource), sent after the text.
type withResources interface {
	Resources() []mcp.Content
}

// Tool is one MCP tool.
type Tool struct {
	Name string
	// Title is the name a person reads in a client's tool list ("Search
	// mail"): MCP's Tool.title, and annotations.title for clients of
	// protocol versions before 2025-06-18.
	Title       string
	Description string
	// Scopes the tool needs, any one of them, least privileged first. The
	// gate refuses the call before Graph when none is granted.
	Scopes  []string
	Hints   Hints
	Toolset string // set by the inventory
	// WorkOrSchool marks a tool whose Graph calls exist only for work or
	// school accounts: Graph refuses them to personal Microsoft accounts.
	WorkOrSchool bool

	modes []scopeNeed // what each mode needs, least privileged first, when modes differ (see needs)

	inputSchema  json.RawMessage
	outputSchema json.RawMessage
	required     []string
	newArgs      func() any // a pointer to a zero argument value, for checks over every tool
	run          func(ctx context.Context, c *Call, args json.RawMessage) (Result, error)
}

// workOrSchoolOnly marks t as working only for work or school accounts.
func workOrSchoolOnly(t Tool) Tool {
	t.WorkOrSchool = true
	return t
}

// Call is what a handler gets besides its arguments: the user's connection
// and the scopes it was granted.
type Call struct {
	Conn    *nango.Connection
	Granted nango.Scopes
	Tools   []Tool // the server's tool list, for get_profile
	// Budget is the most tokens an answer may hold (Deps.MaxResponseTokens):
	// handlers size their pages with budgetChars, fitBudget enforces it.
	Budget int

	need  *scopeNeed // what this call's mode needs, when narrower than the tool's Scopes (see require)
	named bool       // the request named the connection (nango mode), rather than the server's configuration

	handles handles.Store // the short ids of Graph ids (handles.go)
	log     *slog.Logger
	lookups *lookups // what the server remembers of connections (lookups.go)
}

// define declares a tool from a typed handler: its name, its title for
// people, its description for the model. In and Out are reflected by
// invopop into the input and output schemas.
func define[In any, Out Result](name, title, description string, scopes []string, hints Hints,
	handle func(ctx context.Context, c *Call, in In) (Out, error)) Tool {
	in, required := schemaOf[In](true)
	out, _ := schemaOf[Out](false)
	_ = checkBounds(new(In)) // a malformed max tag panics here, at start-up, not on a call
	return Tool{
		Name: name, Title: title, Description: description, Scopes: scopes, Hints: hints,
		inputSchema: in, outputSchema: out, required: required,
		newArgs: func() any { return new(In) },
		run: func(ctx context.Context, c *Call, raw json.RawMessage) (Result, error) {
			var args In
			if err := decodeArgs(raw, required, &args); err != nil {
				return nil, err
			}
			if err := resolveIDs(ctx, c, &args); err != nil {
				return nil, err
			}
			return handle(ctx, c, args)
		},
	}
}

var reflector = jsonschema.Reflector{Anonymous: true, DoNotReference: true, ExpandedStruct: true}

// schemaOf reflects T into a JSON schema fit for MCP and returns its
// required properties. strict is for arguments: the schema keeps its
// descriptions and is portable (see portable); otherwise it is a result's,
// loosened (see loosen).
func schemaOf[T any](strict bool) (json.RawMessage, []string) {
	s := reflector.Reflect(new(T))
	s.Version = ""
	if s.Properties == nil || s.Properties.Len() == 0 {
		// An argument-less tool still needs an object schema with properties.
		s.Properties = jsonschema.NewProperties()
	}
	if strict {
		portable(s)
	} else {
		loosen(s)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	return raw, s.Required
}

// portable makes an input schema one that model providers take as it is:
// Gemini's function declarations (a subset of OpenAPI 3.0's schema object)
// and OpenAI's function calling in its non-strict mode. What invopop gives
// us, keyword by keyword:
//   - type (one name, never a list), description, properties, required,
//     items, enum (strings only), minimum, maximum, maxItems: kept, all in
//     the subset;
//   - default: kept. OpenAPI 3.0 has it and Gemini's Schema takes it (and
//     ignores it for validation); it tells the model what leaving an
//     argument out means;
//   - additionalProperties: dropped, everywhere. Gemini refuses it, and it
//     buys nothing: decodeArgs refuses unknown arguments by name anyway;
//   - required: dropped where empty (OpenAPI 3.0 wants at least one name);
//   - properties: kept even where empty (an argument-less tool). OpenAI
//     refuses an object schema without properties, and MCP clients pass it
//     on; Gemini took an empty one badly before 2025 and takes it now;
//   - $schema, $ref, $defs, anyOf, oneOf, allOf, const: never produced
//     (Version cleared, DoNotReference, no union types in arguments);
//     TestInputSchemasArePortable fails if one appears.
func portable(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	s.AdditionalProperties = nil
	if len(s.Required) == 0 {
		s.Required = nil
	}
	portable(s.Items)
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			portable(p.Value)
		}
	}
}

// loosen drops additionalProperties, descriptions and required lists from
// s and the objects below it: a result's meaning is in the tool's
// description and its text, and every token of tools/list is paid on
// every request (the result's own required list stays). Without
// additionalProperties an output schema also lets a later version add a
// field without breaking a client that validates structuredContent.
func loosen(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	s.AdditionalProperties = nil
	s.Description = ""
	s.Required = nil
	loosen(s.Items)
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			loosen(p.Value)
		}
	}
}

// decodeArgs binds arguments strictly: unknown names, wrong types, values
// beyond their bounds and missing required arguments come back as an
// *inputError naming the argument.
func decodeArgs(raw json.RawMessage, required []string, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil {
		return &inputError{msg: "arguments must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &typeErr):
		// An embedded struct's Go name leads the path: drop it.
		field := typeErr.Field
		for known := fieldNames(v); field != "" && !slices.Contains(known, strings.Split(field, ".")[0]); {
			_, field, _ = strings.Cut(field, ".")
		}
		return argError(cmp.Or(field, typeErr.Field), "must be %s, not %s", jsonTypeName(typeErr.Type), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return argError(short(name), "is not an argument of this tool (known: %s)", strings.Join(fieldNames(v), ", "))
	default:
		return &inputError{msg: "arguments are not valid JSON: " + err.Error()}
	}
	if err := checkBounds(v); err != nil {
		return err
	}
	if err := checkRanges(v, present); err != nil {
		return err
	}
	for _, name := range required {
		if v, ok := present[name]; !ok || string(v) == "null" || string(v) == `""` || string(v) == "[]" {
			return argError(name, "is required")
		}
	}
	return nil
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "an object"
}

// fieldNames lists the JSON argument names of the struct v points to,
// those of embedded structs included.
func fieldNames(v any) []string {
	return structFieldNames(reflect.TypeOf(v).Elem())
}

func structFieldNames(t reflect.Type) []string {
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			names = append(names, structFieldNames(f.Type)...)
		case name != "" && name != "-":
			names = append(names, name)
		}
	}
	return names
}

// inputError is bad input: the model can fix it. No Graph call was made.
type inputError struct {
	arg string
	msg string
}

func (e *inputError) Error() string {
	if e.arg == "" {
		return "Invalid input: " + e.msg
	}
	return fmt.Sprintf("Invalid argument %q: %s", e.arg, e.msg)
}

func argError(arg, format string, a ...any) error {
	return &inputError{arg: arg, msg: fmt.Sprintf(format, a...)}
}

// refusal is a call the tool cannot carry out for a reason in the data, not
// in the arguments (a file too large or unreadable): other arguments will
// not help, so the model should tell the user.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }

func refuse(format string, a ...any) error {
	return &refusal{msg: fmt.Sprintf(format, a...)}
}
