#!/usr/bin/env python3
"""policyd_soak.py - the soak driver of bench/policyd-soak.sh (issue 14).

usage: policyd_soak.py ADDR PID SECONDS [--interval S] [--margin PCT] [--slack KB]

For SECONDS, against the policy service PID listening on ADDR (unix:PATH):
  good      8 Postfix-like clients: one request, wait for its reply, the next
            (pass, fail, softfail, none and skipped clients mixed); each
            reconnects every 200 requests
  pipeliner writes requests and never reads, until the service closes it
            (--send-timeout), then again
  slowloris 50 connections holding 59 bytes of a request, reopened when the
            service closes them (--receive-timeout or eviction)
  dripper   a request one byte every 0.3 s, reopened when closed
  junk      a line that is no request, every 0.5 s (closed without a reply)
Every --interval seconds (default 5) it samples the service's RSS (VmRSS)
and open descriptors (/proc/PID/fd) and prints one line per sample.  At the
end it compares the median of the last third of the samples with the
median of the first third: RSS may grow by --margin percent (default 10)
plus --slack kB (default 4096), descriptors by 20 (the misbehaving clients
come and go).  The first sample, taken before the load starts, is left out.  Exit 1 on growth
beyond that, or when the good clients got no reply; 0 otherwise.
"""
import argparse
import asyncio
import os
import statistics
import sys
import time

DOMAINS = ["pass", "fail", "soft", "none"]


def request(i, client="192.0.2.10"):
    kind = DOMAINS[i % len(DOMAINS)]
    return ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=%s\nhelo_name=mail%d.%s.soak.test\n"
            "sender=user%d@d%d.%s.soak.test\nrecipient=bob@dest.test\n"
            "queue_id=Q%d\ninstance=soak.%d\n\n"
            % (client if i % 10 else "127.0.0.1", i % 50, kind, i, i % 50, kind, i, i)
            ).encode()


async def connect(addr, limit=65536):
    return await asyncio.open_unix_connection(addr[5:], limit=limit)


class Stats:
    def __init__(self):
        self.answered = 0
        self.closed = {"pipeliner": 0, "slowloris": 0, "dripper": 0, "junk": 0}


async def good(addr, end, st, k):
    i = k * 1000000
    while time.monotonic() < end:
        try:
            r, w = await connect(addr)
            for _ in range(200):
                if time.monotonic() >= end:
                    break
                w.write(request(i))
                i += 1
                await w.drain()
                await asyncio.wait_for(r.readuntil(b"\n\n"), 30)
                st.answered += 1
            w.close()
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            await asyncio.sleep(0.1)


async def until_closed(r, end):
    """Read (and discard) until the service closes; False at the end."""
    while time.monotonic() < end:
        try:
            chunk = await asyncio.wait_for(r.read(65536), 1)
        except asyncio.TimeoutError:
            continue
        except OSError:
            return True
        if not chunk:
            return True
    return False


async def pipeliner(addr, end, st):
    blob = b"".join(request(i) for i in range(500))
    while time.monotonic() < end:
        try:
            # reads at most 8 KiB (asyncio pauses at twice the limit)
            r, w = await connect(addr, limit=4096)
            # writes as long as the service reads, never reads itself
            t = w.transport
            t.set_write_buffer_limits(high=1 << 20)
            while time.monotonic() < end and not t.is_closing():
                if t.get_write_buffer_size() < (1 << 20):
                    w.write(blob)
                await asyncio.sleep(0.2)
                if r.at_eof() or r.exception() is not None:
                    break
            w.close()
            st.closed["pipeliner"] += 1
        except OSError:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.1)


async def slowloris(addr, end, st):
    async def one():
        while time.monotonic() < end:
            try:
                r, w = await connect(addr)
                w.write(request(0)[:59])
                if await until_closed(r, end):
                    st.closed["slowloris"] += 1
                w.close()
            except OSError:
                await asyncio.sleep(0.2)
    await asyncio.gather(*[one() for _ in range(50)])


async def dripper(addr, end, st):
    data = request(7)
    while time.monotonic() < end:
        try:
            r, w = await connect(addr)
            n = 0
            while time.monotonic() < end:
                w.write(data[n % len(data):n % len(data) + 1])
                n += 1
                await w.drain()
                try:
                    chunk = await asyncio.wait_for(r.read(4096), 0.3)
                    if not chunk:
                        st.closed["dripper"] += 1
                        break
                except asyncio.TimeoutError:
                    pass
            w.close()
        except OSError:
            await asyncio.sleep(0.2)


async def junk(addr, end, st):
    while time.monotonic() < end:
        try:
            r, w = await connect(addr)
            w.write(b"GET / HTTP/1.0\n\n")
            if await until_closed(r, end):
                st.closed["junk"] += 1
            w.close()
        except OSError:
            pass
        await asyncio.sleep(0.5)


def sample(pid):
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid))


async def sampler(pid, start, end, interval, st, out):
    while True:
        rss, fds = sample(pid)
        out.append((rss, fds))
        print("t=%4ds rss=%6d kB fds=%4d answered=%d closed=%s" % (
            time.monotonic() - start, rss, fds, st.answered,
            ",".join("%s:%d" % kv for kv in st.closed.items())), flush=True)
        if time.monotonic() + interval > end + 0.5:
            return
        await asyncio.sleep(interval)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("pid", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--margin", type=float, default=10)
    ap.add_argument("--slack", type=int, default=4096)
    a = ap.parse_args()
    st = Stats()
    start = time.monotonic()
    end = start + a.seconds
    samples = []
    await asyncio.gather(
        sampler(a.pid, start, end, a.interval, st, samples),
        *[good(a.addr, end, st, k) for k in range(8)],
        pipeliner(a.addr, end, st), slowloris(a.addr, end, st),
        dripper(a.addr, end, st), junk(a.addr, end, st))
    samples = samples[1:] or samples   # the first is taken before the load
    third = max(1, len(samples) // 3)
    first, last = samples[:third], samples[-third:]
    rss0 = statistics.median(s[0] for s in first)
    rss1 = statistics.median(s[0] for s in last)
    fd0 = statistics.median(s[1] for s in first)
    fd1 = statistics.median(s[1] for s in last)
    rss_bound = rss0 * (1 + a.margin / 100) + a.slack
    ok = rss1 <= rss_bound and fd1 <= fd0 + 20 and st.answered > 0
    print("RSS median first third %d kB, last third %d kB (bound %d kB); "
          "descriptors %d -> %d (bound %d); %d requests answered: %s" % (
              rss0, rss1, rss_bound, fd0, fd1, fd0 + 20, st.answered,
              "ok" if ok else "GROWTH" if st.answered else "NO ANSWERS"))
    sys.stdout.flush()
    os._exit(0 if ok else 1)


asyncio.run(main())
