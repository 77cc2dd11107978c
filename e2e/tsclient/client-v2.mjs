// The official MCP TypeScript SDK v2 (@modelcontextprotocol/client) as a
// client of outlook-mcp, for the Go end-to-end tests: node client-v2.mjs
// '<plan as JSON>' prints one JSON object.
//
// plan: {"url": "http://127.0.0.1:8080/sse", "transport": "sse" | "http",
//        "mode": "auto" | "legacy" | "2026-07-28" (a pinned version; default "auto"),
//        "headers": {...}, "calls": [{"name": "...", "arguments": {...}}],
//        "prompts": [{"name": "...", "arguments": {...}}]}
// out:  {"protocolVersion", "tools": [names],
//        "results": [{isError, text, structuredContent} or {isError: true, protocolError}],
//        "prompts": [{text} or {protocolError, code}]}
//       or {"error": "...", "code"} (exit 1) when connecting or listing fails.
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const plan = JSON.parse(process.argv[2]);
const url = new URL(plan.url);
// The SDK sends requestInit's headers on the SSE stream's GET and on every POST.
const requestInit = { headers: plan.headers ?? {} };
const transport = plan.transport === "http"
  ? new StreamableHTTPClientTransport(url, { requestInit })
  : new SSEClientTransport(url, { requestInit });
const mode = !plan.mode || plan.mode === "auto" || plan.mode === "legacy" ? plan.mode ?? "auto" : { pin: plan.mode };
const client = new Client({ name: "outlook-mcp-e2e-ts-v2", version: "1.0.0" }, { versionNegotiation: { mode } });

const failure = (e) => ({ protocolError: String(e?.message ?? e), code: e?.code ?? null });
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
      results.push({ isError: true, ...failure(e) });
    }
  }
  const prompts = [];
  for (const p of plan.prompts ?? []) {
    try {
      const r = await client.getPrompt({ name: p.name, arguments: p.arguments ?? {} });
      prompts.push({ text: r.messages.map((m) => (m.content?.type === "text" ? m.content.text : "")).join("") });
    } catch (e) {
      prompts.push(failure(e));
    }
  }
  console.log(JSON.stringify({ protocolVersion: client.getNegotiatedProtocolVersion?.() ?? null, tools, results, prompts }));
  await client.close();
} catch (e) {
  console.log(JSON.stringify({ error: String(e?.message ?? e), code: e?.code ?? null }));
  process.exitCode = 1;
}
