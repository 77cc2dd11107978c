#!/usr/bin/env python3
"""Peak memory of the HTTP server while it takes N large requests at once.

usage: scripts/rss_bodies.py ./outlook-mcp [requests] [MiB each]
Starts the binary with --transport http on a loopback port (--sandbox, or,
when NANGO_HOST is set, the product configuration from NANGO_* against that
host, e.g. scripts/fakenango, so that the simulator's memory is not
counted), sends
`requests` concurrent POSTs to /mcp, each a send_mail with an attachment of
about `MiB each` of JSON, and prints VmRSS/VmHWM before and after (Linux).
"""
import base64, concurrent.futures, json, os, socket, subprocess, sys, time, urllib.request

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
mib = float(sys.argv[3]) if len(sys.argv) > 3 else 4


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024
    return out


port = free_port()
sandbox = [] if os.environ.get("NANGO_HOST") else ["--sandbox"]
p = subprocess.Popen([binary, *sandbox, "--transport", "http", "--addr", f"127.0.0.1:{port}"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = f"http://127.0.0.1:{port}/mcp"
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.05)

raw = os.urandom(int(mib * 1024 * 1024 * 3 / 4) - 4096)  # base64 grows it by 4/3
body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "send_mail", "arguments": {
    "to": ["ann.fischer@contoso.com"], "subject": "load", "body": "b",
    "attachments": [{"name": "a.bin", "content_base64": base64.b64encode(raw).decode()}]}}}).encode()


def post(_):
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, len(r.read())


try:
    before = mem(p.pid)
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        results = list(ex.map(post, range(n)))
    after = mem(p.pid)
    print(f"{n} requests of {len(body) / 2**20:.2f} MiB at once: statuses {sorted(set(s for s, _ in results))}")
    print(f"RSS before {before['VmRSS']:.1f} MiB; after {after['VmRSS']:.1f} MiB; peak (VmHWM) {after['VmHWM']:.1f} MiB")
finally:
    p.terminate()
    p.wait()
