package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listTools is what a client receives from tools/list.
func listTools(t *testing.T) []map[string]any {
	h := newHarness(t)
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	data, err := json.Marshal(res.Tools)
	require.NoError(t, err)
	var tools []map[string]any
	require.NoError(t, json.Unmarshal(data, &tools))
	return tools
}

func TestEveryToolIsListedOnceWithAllHints(t *testing.T) {
	tools := listTools(t)
	require.Len(t, tools, len(All()))
	seen := map[string]bool{}
	for _, tool := range tools {
		name := tool["name"].(string)
		assert.False(t, seen[name], "duplicate tool %s", name)
		seen[name] = true
		ann, _ := tool["annotations"].(map[string]any)
		for _, hint := range []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"} {
			assert.Contains(t, ann, hint, "%s lacks %s", name, hint)
		}
		assert.NotEmpty(t, tool["description"], name)
	}
}

func TestSchemasAreCleanObjects(t *testing.T) {
	for _, tool := range listTools(t) {
		name := tool["name"].(string)
		for _, key := range []string{"inputSchema", "outputSchema"} {
			schema, ok := tool[key].(map[string]any)
			require.True(t, ok, "%s has no %s", name, key)
			assert.Equal(t, "object", schema["type"], "%s %s", name, key)
			assert.Contains(t, schema, "properties", "%s %s", name, key)
			for _, banned := range []string{"$schema", "$ref", "$defs", "anyOf", "oneOf", "allOf"} {
				assert.NotContains(t, schema, banned, "%s %s", name, key)
			}
			raw, _ := json.Marshal(schema)
			assert.NotContains(t, string(raw), `"$ref"`, "%s %s", name, key)
			assertTypedSchemas(t, name+"."+key, schema)
		}
	}
}

// portableKeywords are the schema keywords that Gemini's function
// declarations (a subset of OpenAPI 3.0) and OpenAI's non-strict function
// calling both take; see portable in tool.go.
var portableKeywords = []string{"type", "description", "properties", "required", "items", "enum",
	"minimum", "maximum", "minItems", "maxItems", "default"}

// Every input schema, as the server sends it, uses the portable keywords
// only: no additionalProperties anywhere (Gemini refuses the whole tool
// list for it), one type name per schema, enums of strings, no empty
// required list. Output schemas carry no additionalProperties either.
func TestInputSchemasArePortable(t *testing.T) {
	for _, tool := range All() {
		raw, err := json.Marshal(tool.Definition())
		require.NoError(t, err)
		var def struct {
			InputSchema  map[string]any `json:"inputSchema"`
			OutputSchema map[string]any `json:"outputSchema"`
		}
		require.NoError(t, json.Unmarshal(raw, &def))
		require.Contains(t, def.InputSchema, "properties", "%s: OpenAI refuses an object schema without properties", tool.Name)
		assertPortable(t, tool.Name, def.InputSchema)
		out, _ := json.Marshal(def.OutputSchema)
		assert.NotContains(t, string(out), "additionalProperties", tool.Name)
	}
}

func assertPortable(t *testing.T, where string, schema map[string]any) {
	for key := range schema {
		assert.Contains(t, portableKeywords, key, "%s: %q is not in the portable subset", where, key)
	}
	typ, ok := schema["type"].(string)
	if !assert.True(t, ok, "%s: type must be one name, not %v", where, schema["type"]) {
		return
	}
	assert.Contains(t, []string{"string", "integer", "number", "boolean", "array", "object"}, typ, where)
	if enum, ok := schema["enum"].([]any); ok {
		assert.Equal(t, "string", typ, "%s: Gemini takes enums of strings only", where)
		assert.NotEmpty(t, enum, where)
	}
	if req, ok := schema["required"]; ok {
		assert.NotEmpty(t, req, "%s: an empty required list is not OpenAPI 3.0", where)
	}
	if props, ok := schema["properties"].(map[string]any); ok {
		for name, sub := range props {
			m, ok := sub.(map[string]any)
			if assert.True(t, ok, "%s.%s", where, name) {
				assertPortable(t, where+"."+name, m)
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok {
		assertPortable(t, where+"[]", items)
	}
}

// Every tool has a title for people, as MCP's Tool.title and, for clients
// before 2025-06-18, annotations.title.
func TestEveryToolHasATitle(t *testing.T) {
	titles := map[string]string{}
	for _, tool := range listTools(t) {
		name := tool["name"].(string)
		title, _ := tool["title"].(string)
		assert.NotEmpty(t, title, name)
		assert.NotEqual(t, name, title, "%s: a title is for people, not the name again", name)
		assert.LessOrEqual(t, len(title), 32, name)
		ann, _ := tool["annotations"].(map[string]any)
		assert.Equal(t, title, ann["title"], name)
		assert.Empty(t, titles[title], "%s and %s share a title", name, titles[title])
		titles[title] = name
	}
}

// Snapshots make every change to a tool's public contract deliberate:
// UPDATE_TOOLSNAPS=true go test ./tools rewrites them; a missing one fails.
func TestToolSnapshots(t *testing.T) {
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	for _, tool := range listTools(t) {
		name := tool["name"].(string)
		got, err := json.MarshalIndent(tool, "", "  ")
		require.NoError(t, err)
		got = append(got, '\n')
		path := filepath.Join("..", "testdata", "toolsnaps", name+".json")
		if update {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, got, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "no snapshot for %s: run UPDATE_TOOLSNAPS=true go test ./tools", name)
		if !bytes.Equal(want, got) {
			t.Errorf("%s changed its public contract; if deliberate, run UPDATE_TOOLSNAPS=true go test ./tools\n%s", name, got)
		}
	}
}

func TestEveryToolDeclaresScopes(t *testing.T) {
	for _, tool := range All() {
		assert.NotEmpty(t, tool.Scopes, tool.Name)
	}
}

// assertTypedSchemas fails on a bare true/false sub-schema (what "any"
// reflects to), which several model providers reject.
func assertTypedSchemas(t *testing.T, where string, schema map[string]any) {
	props, _ := schema["properties"].(map[string]any)
	for name, sub := range props {
		m, ok := sub.(map[string]any)
		if assert.True(t, ok, "%s.%s is not a typed schema", where, name) {
			assert.Contains(t, m, "type", "%s.%s", where, name)
			assertTypedSchemas(t, where+"."+name, m)
		}
	}
	if items, ok := schema["items"]; ok {
		m, isMap := items.(map[string]any)
		if assert.True(t, isMap, "%s items is not a typed schema", where) {
			assertTypedSchemas(t, where+"[]", m)
		}
	}
}

// The whole tool surface is read by the model on every request. Measured
// with the o200k tokenizer it is about 8,550 tokens for 29 tools (target
// ≤ 9,000; BENCHMARKS.md); JSON runs at about 4.2 characters a token, so
// this bound holds the line without a tokenizer in the tests.
func TestToolSurfaceFitsTheTokenBudget(t *testing.T) {
	h := newHarness(t)
	res, err := h.client.ListTools(context.Background(), mcp.ListToolsRequest{})
	require.NoError(t, err)
	data, err := json.Marshal(res.Tools)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(data), 37500, "tools/list is %d characters (≈ %d tokens)", len(data), len(data)*10/42)
	n := o200k(t, string(data))
	t.Logf("tools/list: %d characters, %d o200k tokens", len(data), n)
	assert.LessOrEqual(t, n, 9000)
}
