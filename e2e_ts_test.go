package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/outlook-mcp/outlook-mcp/sim"
)

// The official MCP TypeScript SDK (what Claude Desktop, VS Code and the
// Inspector are built on) as a client of the built binary, over streamable
// HTTP and SSE: e2e/tsclient/client.mjs runs a plan and prints the answers.

type tsPlan struct {
	URL       string            `json:"url"`
	Transport string            `json:"transport"`
	Headers   map[string]string `json:"headers,omitempty"`
	// AccessToken goes through the SDK's OAuth auth provider.
	AccessToken string `json:"accessToken,omitempty"`
	// ClientCredentials makes the SDK sign in on its own (its
	// ClientCredentialsProvider); Route sends one origin's requests to another.
	ClientCredentials *tsClientCredentials `json:"clientCredentials,omitempty"`
	Route             map[string]string    `json:"route,omitempty"`
	Calls             []tsCall             `json:"calls,omitempty"`
}

type tsClientCredentials struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Issuer       string `json:"issuer"`
	Scope        string `json:"scope,omitempty"`
}

type tsCall struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments,omitempty"`
}

type tsOutcome struct {
	Error   string   `json:"error"`
	Tools   []string `json:"tools"`
	Results []struct {
		IsError           bool           `json:"isError"`
		Text              string         `json:"text"`
		StructuredContent map[string]any `json:"structuredContent"`
		ProtocolError     string         `json:"protocolError"`
	} `json:"results"`
}

// tsClient finds node and the installed SDK: it skips locally when either
// is missing, and fails in CI, which installs both (.ci/run).
func tsClient(t *testing.T) (node, script string) {
	t.Helper()
	dir, err := filepath.Abs("e2e/tsclient")
	require.NoError(t, err)
	node, err = exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the TypeScript SDK client is missing in CI: %v", err)
		}
		t.Skipf("the TypeScript SDK client is not installed (%v): install Node.js, then run npm ci --prefix e2e/tsclient", err)
	}
	return node, filepath.Join(dir, "client.mjs")
}

func runTS(t *testing.T, plan tsPlan) tsOutcome {
	t.Helper()
	node, script := tsClient(t)
	return runScript[tsOutcome](t, node, script, plan)
}

// runScript runs a client script with its plan as JSON and reads the JSON
// outcome it prints (TSDEBUG=1 logs both).
func runScript[Outcome any](t *testing.T, node, script string, plan any) Outcome {
	t.Helper()
	data, err := json.Marshal(plan)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, script, string(data)).Output()
	if os.Getenv("TSDEBUG") != "" {
		t.Logf("%s -> %s %v", data, out, err)
	}
	var o Outcome
	require.NoError(t, json.Unmarshal(out, &o), "the client printed: %s", out)
	return o
}

func TestE2ETypeScriptSDK(t *testing.T) {
	tsClient(t)
	const token = "0123456789abcdef0123456789abcdef-ts"
	srv := startBinary(t, []string{"OUTLOOK_MCP_TOKEN=" + token}, "--sandbox")
	for _, tr := range []struct{ name, path string }{{"http", "/mcp"}, {"sse", "/sse"}} {
		t.Run(tr.name, func(t *testing.T) {
			o := runTS(t, tsPlan{URL: srv.base + tr.path, Transport: tr.name,
				Headers: map[string]string{"Authorization": "Bearer " + token},
				Calls: []tsCall{
					{Name: "search_mail", Arguments: map[string]any{"folder": "inbox", "limit": 3}},
					{Name: "get_event", Arguments: map[string]any{"event_id": "%2e%2e"}},
					{Name: "send_mail", Arguments: map[string]any{"to": []string{"ann.fischer@contoso.com"}, "subject": "x", "body": "b", "cc": make([]string, 501)}},
				}})
			require.Empty(t, o.Error)
			assert.Len(t, o.Tools, 29)
			require.Len(t, o.Results, 3)
			assert.False(t, o.Results[0].IsError, o.Results[0].Text)
			assert.Len(t, o.Results[0].StructuredContent["messages"], 3)
			assert.True(t, o.Results[1].IsError)
			assert.Contains(t, o.Results[1].Text, `Invalid argument "event_id"`)
			assert.True(t, o.Results[2].IsError)
			assert.Contains(t, o.Results[2].Text, `Invalid argument "cc": has too many items`)

			o = runTS(t, tsPlan{URL: srv.base + tr.path, Transport: tr.name})
			assert.NotEmpty(t, o.Error, "without the token the SDK cannot connect")
		})
	}
}

// startNangoBinary runs the built binary in nango mode against a simulated
// Nango on loopback holding priya's connection ("sandbox") and ada's.
func startNangoBinary(t *testing.T) (*binaryServer, *sim.Sim) {
	t.Helper()
	s, err := sim.New(fixture(t), sim.Options{Users: []sim.User{{ConnectionID: ada.connection, Name: "Ada Lovelace"}}})
	require.NoError(t, err)
	nangoHost := httptest.NewServer(s)
	t.Cleanup(nangoHost.Close)
	return startBinary(t, []string{"OUTLOOK_MCP_AUTH=nango", "NANGO_HOST=" + nangoHost.URL, "NANGO_SECRET_KEY=" + sim.DefaultSecretKey}), s
}

// checkOwnMailbox asserts that a plan of get_profile then search_mail
// answered with u's own profile and mail.
func checkOwnMailbox(t *testing.T, o tsOutcome, u oauthUser) {
	t.Helper()
	require.Empty(t, o.Error)
	assert.Len(t, o.Tools, 29)
	require.Len(t, o.Results, 2)
	assert.False(t, o.Results[0].IsError, o.Results[0].Text)
	assert.Equal(t, u.email, o.Results[0].StructuredContent["email"])
	assert.Equal(t, u.connection, o.Results[0].StructuredContent["connection_id"])
	assert.False(t, o.Results[1].IsError, o.Results[1].Text)
	messages, _ := o.Results[1].StructuredContent["messages"].([]any)
	require.NotEmpty(t, messages)
	for _, m := range messages {
		subject, _ := m.(map[string]any)["subject"].(string)
		if u.subjectPrefix != "" {
			assert.True(t, strings.HasPrefix(subject, u.subjectPrefix), "%s sees %q", u.sub, subject)
		} else {
			assert.NotContains(t, subject, "[Ada Lovelace]", "%s sees Ada's mail", u.sub)
		}
	}
}

var ownMailboxCalls = []tsCall{{Name: "get_profile"}, {Name: "search_mail", Arguments: map[string]any{"folder": "inbox", "limit": 3}}}

// TestE2ETypeScriptSDKNangoMode: the TypeScript SDK sends Nango's MCP
// headers (the secret key, connection-id): two users, each their own
// mailbox, over streamable HTTP and SSE; without connection-id it cannot
// connect.
func TestE2ETypeScriptSDKNangoMode(t *testing.T) {
	tsClient(t)
	srv, _ := startNangoBinary(t)
	for _, tr := range []struct{ name, path string }{{"http", "/mcp"}, {"sse", "/sse"}} {
		t.Run(tr.name, func(t *testing.T) {
			for _, u := range []oauthUser{priya, ada} {
				o := runTS(t, tsPlan{URL: srv.base + tr.path, Transport: tr.name, Calls: ownMailboxCalls,
					Headers: map[string]string{"Authorization": "Bearer " + sim.DefaultSecretKey, "connection-id": u.connection}})
				checkOwnMailbox(t, o, u)
			}
			o := runTS(t, tsPlan{URL: srv.base + tr.path, Transport: tr.name,
				Headers: map[string]string{"Authorization": "Bearer " + sim.DefaultSecretKey}})
			assert.NotEmpty(t, o.Error, "without connection-id the SDK cannot connect")
		})
	}
}

// TestE2ETypeScriptSDKOAuthMode: the TypeScript SDK with an access token of
// the issuer, as a header and through its auth provider (a client that has
// signed its user in): each user their own mailbox, over streamable HTTP
// and SSE; a user without a connection gets the Connect link; without a
// token the SDK's sign-in cannot finish non-interactively.
func TestE2ETypeScriptSDKOAuthMode(t *testing.T) {
	tsClient(t)
	s := startOAuthBinary(t)
	for _, tr := range []struct{ name, path string }{{"http", "/mcp"}, {"sse", "/sse"}} {
		t.Run(tr.name, func(t *testing.T) {
			checkOwnMailbox(t, runTS(t, tsPlan{URL: s.base + tr.path, Transport: tr.name, Calls: ownMailboxCalls,
				Headers: map[string]string{"Authorization": "Bearer " + s.token(t, priya, nil)}}), priya)
			checkOwnMailbox(t, runTS(t, tsPlan{URL: s.base + tr.path, Transport: tr.name, Calls: ownMailboxCalls,
				AccessToken: s.token(t, ada, nil)}), ada)

			o := runTS(t, tsPlan{URL: s.base + tr.path, Transport: tr.name, Calls: ownMailboxCalls[:1], AccessToken: s.token(t, carol, nil)})
			require.Empty(t, o.Error)
			require.Len(t, o.Results, 1)
			assert.True(t, o.Results[0].IsError)
			assert.Contains(t, o.Results[0].Text, "Connect your Outlook account: https://connect.nango.dev/?session_token=")

			o = runTS(t, tsPlan{URL: s.base + tr.path, Transport: tr.name})
			assert.NotEmpty(t, o.Error, "without a token the SDK cannot connect")
			t.Logf("without a token: %s", o.Error)
		})
	}
}

// TestE2ETypeScriptSDKOAuthSignIn: the TypeScript SDK signs in by itself,
// as a machine client would: refused with the challenge, it reads the
// resource's metadata at the public URL, the issuer's metadata, gets a
// token for the resource with the client_credentials grant, and retries.
//
// The SDK accepts the metadata only if its resource is the endpoint it
// calls or that endpoint's origin. With --public-url at /mcp (as the README
// advises) that holds for streamable HTTP but not for /sse; with the
// origin as --public-url it holds for both.
func TestE2ETypeScriptSDKOAuthSignIn(t *testing.T) {
	tsClient(t)
	for _, tc := range []struct {
		publicURL string
		sseWorks  bool
	}{{oauthPublicURL, false}, {"https://mcp.example.test/", true}} {
		t.Run(tc.publicURL, func(t *testing.T) {
			s := startOAuthBinaryAt(t, tc.publicURL)
			s.iss.AddClient("ada-agent", "ada-agent-secret", ada.sub)
			for _, tr := range []struct{ name, path string }{{"http", "/mcp"}, {"sse", "/sse"}} {
				t.Run(tr.name, func(t *testing.T) {
					plan := tsPlan{URL: "https://mcp.example.test" + tr.path, Transport: tr.name, Calls: ownMailboxCalls,
						Route:             map[string]string{"https://mcp.example.test": s.base},
						ClientCredentials: &tsClientCredentials{ClientID: "ada-agent", ClientSecret: "ada-agent-secret", Issuer: s.iss.URL(), Scope: "mcp.access"}}
					if tr.name == "sse" && !tc.sseWorks {
						o := runTS(t, plan)
						assert.Contains(t, o.Error, "Protected resource https://mcp.example.test/mcp does not match expected https://mcp.example.test/sse")
						return
					}
					checkOwnMailbox(t, runTS(t, plan), ada)

					plan.ClientCredentials.ClientSecret = "wrong"
					o := runTS(t, plan)
					assert.Equal(t, "InvalidClientError: invalid_client", o.Error, "a client the issuer refuses gets no token")
				})
			}
		})
	}
}
