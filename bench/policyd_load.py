#!/usr/bin/env python3
"""policyd_load.py - load driver for Postfix policy services (a benchmark,
not a test).

usage: policyd_load.py (--target unix:PATH|inet:HOST:PORT | --spawn CMD)
                       --conns C --requests N --domains D [--label NAME]

C connections, each a persistent Postfix policy connection sending its share
of N requests one after the other (as a Postfix smtpd does), all C at once.
Request i is a message from client 127.0.0.10, HELO mail.dK.load.test, sender
user@dK.load.test with K = i mod D (bench/policyd-load.sh builds the zone).
--target connects to a socket service; --spawn starts one CMD process per
connection with its stdin/stdout as the connection, as Postfix's spawn(8)
does (the process start is not timed; its first request is).
Prints one line: label, requests, seconds, requests/s, p50/p90/p99/max
latency in ms and the count of each action word.
"""
import argparse
import asyncio
import collections
import shlex
import sys
import time


def request(i, ndom):
    d = "d%d.load.test" % (i % ndom)
    return ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=127.0.0.10\nclient_name=unknown\nreverse_client_name=unknown\n"
            "helo_name=mail.%s\nsender=user%d@%s\nrecipient=bob@dest.test\n"
            "recipient_count=0\nqueue_id=\ninstance=load.%d\nsize=0\n\n" % (d, i, d, i)).encode()


async def read_reply(reader):
    data = await reader.readuntil(b"\n\n")
    return data.decode("ascii", "replace")


async def conn(a, idx, work, lat, actions, ready, go):
    proc = None
    if a.spawn:
        proc = await asyncio.create_subprocess_exec(
            *shlex.split(a.spawn), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            limit=1 << 20)
        reader, writer = proc.stdout, proc.stdin
    elif a.target.startswith("unix:"):
        reader, writer = await asyncio.open_unix_connection(a.target[5:], limit=1 << 20)
    else:
        host, port = a.target[5:].rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
    ready.append(idx)
    await go.wait()
    for i in work:
        t0 = time.perf_counter()
        writer.write(request(i, a.domains))
        await writer.drain()
        reply = await read_reply(reader)
        lat.append((time.perf_counter() - t0) * 1000.0)
        word = reply[len("action="):].split(" ", 1)[0].split("\n", 1)[0].upper()
        actions[word] += 1
    writer.close()
    if proc is not None:
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target")
    ap.add_argument("--spawn")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--domains", type=int, default=5000)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    lat, actions, ready = [], collections.Counter(), []
    go = asyncio.Event()
    tasks = [asyncio.ensure_future(conn(a, c, range(c, a.requests, a.conns), lat, actions,
                                        ready, go)) for c in range(a.conns)]
    while len(ready) < a.conns:
        await asyncio.sleep(0.05)
        for t in tasks:
            if t.done() and t.exception():
                raise t.exception()
    if a.spawn:
        await asyncio.sleep(2)   # let the interpreters finish starting
    t0 = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    secs = time.perf_counter() - t0
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print("%-22s requests=%d conns=%d seconds=%.2f req/s=%.0f p50=%.1fms p90=%.1fms "
          "p99=%.1fms max=%.1fms actions=%s" % (
              a.label, len(lat), a.conns, secs, len(lat) / secs, q(0.5), q(0.9), q(0.99),
              lat[-1], dict(actions)))
    sys.stdout.flush()


asyncio.run(main())
