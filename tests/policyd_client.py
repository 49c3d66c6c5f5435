#!/usr/bin/env python3
"""policyd_client.py - a Postfix policy delegation client for the tests.

usage: policyd_client.py ADDR [--conns N] [--timeout S] [--replies N] [--stream] < REQUESTS

ADDR is unix:PATH or inet:HOST:PORT.  Every connection (N at once, default 1)
sends all of stdin, then reads until it has --replies replies (a reply ends
with an empty line; default: as many as stdin has requests), the server
closes, or --timeout seconds (default 10) pass.  With --stream (one
connection, --replies needed) stdin is forwarded as it arrives.  It never half-closes, as
Postfix does not.  Prints each connection's replies in order, one reply
per line ("action=..."), connections separated by "--", then a last line
"closed" or "open" for connection 0 (did the server close it).
Exit 0, or 1 when a connection got fewer replies than expected.
"""
import argparse
import asyncio
import os
import sys


async def forward(writer):
    loop = asyncio.get_running_loop()
    while True:
        chunk = await loop.run_in_executor(None, os.read, 0, 65536)
        if not chunk:
            return
        writer.write(chunk)
        await writer.drain()


async def one(addr, data, want, timeout):
    if addr.startswith("unix:"):
        reader, writer = await asyncio.open_unix_connection(addr[5:])
    else:
        host, port = addr[5:].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    if data is None:
        fwd = asyncio.ensure_future(forward(writer))
    else:
        writer.write(data)
        await writer.drain()
    buf = b""
    closed = False
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while buf.count(b"\n\n") < want:
        left = end - loop.time()
        if left <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            break
        if not chunk:
            closed = True
            break
        buf += chunk
    if not closed and buf.count(b"\n\n") >= want:
        # does the server close on its own (after junk)? a short look
        try:
            chunk = await asyncio.wait_for(reader.read(65536), 0.2)
            if not chunk:
                closed = True
            buf += chunk
        except asyncio.TimeoutError:
            pass
    if data is None:
        fwd.cancel()
    writer.close()
    replies = [r for r in buf.decode("utf-8", "replace").split("\n\n") if r]
    return replies, closed


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--replies", type=int, default=-1)
    ap.add_argument("--stream", action="store_true")
    a = ap.parse_args()
    data = None if a.stream else sys.stdin.buffer.read()
    want = a.replies if a.replies >= 0 else data.count(b"\n\n")
    res = await asyncio.gather(*[one(a.addr, data, want, a.timeout)
                                 for _ in range(a.conns)])
    ok = True
    for i, (replies, closed) in enumerate(res):
        if i:
            print("--")
        for r in replies:
            print(r.replace("\n", "\\n"))
        if len(replies) < want:
            ok = False
    print("closed" if res[0][1] else "open")
    sys.stdout.flush()
    # exit here: asyncio.run() would wait for a --stream reader thread
    # still blocked on stdin
    os._exit(0 if ok else 1)


asyncio.run(main())
