// The official MCP TypeScript SDK as a client of outlook-mcp, for the Go
// end-to-end tests: node client.mjs '<plan as JSON>' prints one JSON object.
//
// plan: {"url": "http://127.0.0.1:8080/mcp", "transport": "http" | "sse",
//        "headers": {...}, "calls": [{"name": "...", "arguments": {...}}]}
// out:  {"protocolVersion", "tools": [names], "results": [{isError, text, structuredContent}]}
//       or {"error": "..."} (exit 1) when connecting or listing fails.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

const plan = JSON.parse(process.argv[2]);
const url = new URL(plan.url);
const requestInit = { headers: plan.headers ?? {} };
const transport = plan.transport === "sse"
  ? new SSEClientTransport(url, {
      requestInit,
      // The SSE stream is a GET: it needs the headers too.
      eventSourceInit: { fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers ?? {}), ...requestInit.headers } }) },
    })
  : new StreamableHTTPClientTransport(url, { requestInit });
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
  console.log(JSON.stringify({ error: String(e?.message ?? e) }));
  process.exitCode = 1;
}
