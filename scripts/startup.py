#!/usr/bin/env python3
"""Start the server binary N times over stdio, time initialize + tools/list,
and report the median, plus peak memory (VmHWM) after a few tool calls.

usage: scripts/startup.py ./outlook-mcp [runs]
Runs --sandbox (no network), or, when NANGO_HOST is set, the product
configuration from NANGO_* against that host (e.g. scripts/fakenango).
"""
import json, os, statistics, subprocess, sys, time

binary = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def send(p, msg):
    p.stdin.write((json.dumps(msg) + "\n").encode())
    p.stdin.flush()


def read(p, want_id):
    while True:
        m = json.loads(p.stdout.readline())
        if m.get("id") == want_id:
            return m


def start():
    env = {"OUTLOOK_MCP_LOG_LEVEL": "warn", **{k: v for k, v in os.environ.items() if k.startswith(("GO", "NANGO_"))}}
    args = [binary] if "NANGO_HOST" in env else [binary, "--sandbox"]
    return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)


times = []
for _ in range(runs):
    t0 = time.perf_counter()
    p = start()
    send(p, INIT); read(p, 1)
    send(p, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    send(p, LIST); tools = read(p, 2)["result"]["tools"]
    times.append((time.perf_counter() - t0) * 1000)
    p.stdin.close(); p.wait()

p = start()
send(p, INIT); read(p, 1)
for i, (name, args) in enumerate([("search_mail", {"limit": 50}), ("get_profile", {}),
                                  ("list_events", {"start": "2026-11-01", "end": "2026-12-31", "limit": 100}),
                                  ("find_contacts", {"query": "a", "limit": 50})] * 5):
    send(p, {"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call", "params": {"name": name, "arguments": args}})
    assert not read(p, 10 + i)["result"].get("isError"), name
status = open(f"/proc/{p.pid}/status").read()
hwm = next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]
p.stdin.close(); p.wait()

print(f"tools: {len(tools)}, tools/list JSON: {len(json.dumps(tools, separators=(',', ':')))} bytes")
print(f"start + initialize + tools/list: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms over {runs} runs")
print(f"peak RSS after 20 tool calls: {int(hwm) / 1024:.1f} MiB")
