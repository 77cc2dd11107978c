// The official MCP TypeScript SDK as a client of outlook-mcp, for the Go
// end-to-end tests: node client.mjs '<plan as JSON>' prints one JSON object.
//
// plan: {"url": "http://127.0.0.1:8080/mcp", "transport": "http" | "sse",
//        "headers": {...}, "accessToken": "...", "calls": [{"name": "...", "arguments": {...}}]}
//       accessToken: an OAuth access token the client already holds, given
//       to the SDK through its auth provider (as a signed-in client does),
//       not as a header.
//       clientCredentials: {"clientId", "clientSecret", "issuer", "scope"}: the SDK's
//       ClientCredentialsProvider signs in on its own from the 401.
//       route: {"https://mcp.example.test": "http://127.0.0.1:1234"}: every
//       request to that origin goes to the other (a DNS entry and a TLS
//       proxy in one), so the SDK sees the public URL.
// out:  {"protocolVersion", "tools": [names], "results": [{isError, text, structuredContent}]}
//       or {"error": "..."} (exit 1) when connecting or listing fails.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const plan = JSON.parse(process.argv[2]);
const url = new URL(plan.url);
const requestInit = { headers: plan.headers ?? {} };
// A provider holding a token it got elsewhere: the SDK sends it as a bearer
// token, and on a 401 would start its authorization flow, which cannot
// finish without a browser (redirectToAuthorization fails).
const routedFetch = (u, init) => {
  let target = u instanceof Request ? u.url : String(u);
  for (const [from, to] of Object.entries(plan.route ?? {})) {
    if (target.startsWith(from + "/")) target = to + target.slice(from.length);
  }
  return fetch(target, init);
};
const authProvider = plan.clientCredentials ? new ClientCredentialsProvider({
  clientId: plan.clientCredentials.clientId,
  clientSecret: plan.clientCredentials.clientSecret,
  expectedIssuer: plan.clientCredentials.issuer,
  scope: plan.clientCredentials.scope, // a machine client asks for its configured scope, not the challenge's
}) : plan.accessToken && {
  get redirectUrl() { return "http://127.0.0.1/callback"; },
  get clientMetadata() { return { client_name: "outlook-mcp-e2e-ts", redirect_uris: ["http://127.0.0.1/callback"] }; },
  clientInformation: () => ({ client_id: "outlook-mcp-e2e-ts" }),
  tokens: () => ({ access_token: plan.accessToken, token_type: "Bearer" }),
  saveTokens: () => {},
  redirectToAuthorization: () => { throw new Error("interactive sign-in required"); },
  saveCodeVerifier: () => {},
  codeVerifier: () => { throw new Error("no code verifier"); },
};
const transport = plan.transport === "sse"
  ? new SSEClientTransport(url, {
      requestInit,
      authProvider,
      fetch: routedFetch,
      // The SSE stream is a GET: it needs the headers too. init.headers is
      // a Headers object (with the auth provider's token): merge into it,
      // since spreading a Headers object copies nothing.
      eventSourceInit: {
        fetch: (u, init) => {
          const headers = new Headers(init?.headers);
          for (const [k, v] of Object.entries(requestInit.headers)) headers.set(k, v);
          return routedFetch(u, { ...init, headers });
        },
      },
    })
  : new StreamableHTTPClientTransport(url, { requestInit, authProvider, fetch: routedFetch });
const client = new Client({ name: "outlook-mcp-e2e-ts", version: "1.0.0" });

try {
  await client.connect(transport);
  const tools = (await client.listTools()).tools.map((t) => t.name);
  const results = [];
  for (const call of plan.calls ?? []) {
    try {
      const r = await client.callTool({ name: call.name, arguments: call.arguments ?? {} });
      const text = (r.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("");
      results.push({ isError: !!r.isError, text, structuredContent: r.structuredContent ?? null });
    } catch (e) {
      results.push({ isError: true, protocolError: String(e?.message ?? e) });
    }
  }
  console.log(JSON.stringify({ protocolVersion: transport.protocolVersion ?? null, tools, results }));
  await client.close();
} catch (e) {
  // An OAuth error from the issuer may come without a description.
  console.log(JSON.stringify({ error: e?.message || [e?.name, e?.errorCode].filter(Boolean).join(": ") || String(e) }));
  process.exitCode = 1;
}
