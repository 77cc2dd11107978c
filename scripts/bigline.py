#!/usr/bin/env python3
# Peak RSS of the server (--sandbox) while a 20 MiB stdio line streams in,
# followed by tools/list:
#   go build -o /tmp/outlook-mcp . && scripts/bigline.py /tmp/outlook-mcp
import subprocess, resource, sys, json
bin = sys.argv[1]
p = subprocess.Popen([bin, "--sandbox"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
init = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
p.stdin.write(init)
p.stdin.write(b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_mail","arguments":{"query":"')
chunk = b"a" * (1 << 20)
for _ in range(20):
    p.stdin.write(chunk)
p.stdin.write(b'"}}}\n{"jsonrpc":"2.0","id":8,"method":"tools/list"}\n')
p.stdin.close()
out = p.stdout.read().decode().splitlines()
p.wait()
print("exit", p.returncode, "answers", [(json.loads(l).get("id"), (json.loads(l).get("error") or {}).get("message", "ok")) for l in out])
print("max RSS MiB %.1f" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
