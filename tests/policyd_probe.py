#!/usr/bin/env python3
"""policyd_probe.py - misbehaving Postfix policy clients for tests/policyd.sh
(issue 14).  ADDR is unix:PATH or inet:HOST:PORT.

  flood ADDR BYTES    pipeline requests that are answered at once (a
                      skipped client address) and never read a reply; stop
                      after BYTES sent, when the server closes, or when a
                      write makes no progress for 30 s.  Prints
                      "sent N closed" or "sent N open".
  stall ADDR N        open N connections, send each the first 59 bytes of
                      a request, print "ready", hold them until stdin ends.
  pipeline ADDR N     send N requests answered at once in one blocking
                      write, reading nothing until it is done (or fails:
                      the server closed), then read until the server
                      closes or 30 s pass.  Prints "replies R closed" or
                      "replies R open".
  drip ADDR           send a request one byte every 0.2 s; print
                      "closed after N bytes" when the server closes, or
                      "open after N bytes" after 20 s.
"""
import os
import select
import socket
import sys
import time

REQ = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
       b"client_address=127.0.0.1\nhelo_name=" + b"h" * 250 +
       b"\nsender=" + b"s" * 280 + b"@example.test\ninstance=flood\n\n")


def connect(addr):
    if addr.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr[5:])
    else:
        host, port = addr[5:].rsplit(":", 1)
        s = socket.create_connection((host.strip("[]"), int(port)))
    return s


def flood(addr, total):
    s = connect(addr)
    s.setblocking(False)
    sent, chunk = 0, REQ * 64
    closed = False
    while sent < total:
        _, w, _ = select.select([], [s], [], 30)
        if not w:
            break
        try:
            sent += s.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
    if not closed:
        # did the server close on its own?  (it may have, unread)
        r, _, _ = select.select([s], [], [], 0)
        if r:
            try:
                closed = s.recv(1) == b"" or False
            except ConnectionResetError:
                closed = True
    print("sent %d %s" % (sent, "closed" if closed else "open"))


def stall(addr, n):
    conns = [connect(addr) for _ in range(n)]
    for c in conns:
        c.send(REQ[:59])
    print("ready", flush=True)
    sys.stdin.read()


def pipeline(addr, n):
    s = connect(addr)
    try:
        # a new instance each, so that each reply is a whole header
        s.sendall(b"".join(REQ.replace(b"instance=flood", b"instance=p%d" % i)
                           for i in range(n)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    buf, closed = b"", False
    s.settimeout(30)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            buf += chunk
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    print("replies %d %s" % (buf.count(b"\n\n"), "closed" if closed else "open"))


def drip(addr):
    s = connect(addr)
    end = time.monotonic() + 20
    n = 0
    while time.monotonic() < end:
        try:
            s.send(REQ[n % len(REQ):n % len(REQ) + 1])
            n += 1
        except (BrokenPipeError, ConnectionResetError):
            print("closed after %d bytes" % n)
            return
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            try:
                if s.recv(4096) == b"":
                    print("closed after %d bytes" % n)
                    return
            except ConnectionResetError:
                print("closed after %d bytes" % n)
                return
    print("open after %d bytes" % n)


def main():
    cmd, addr = sys.argv[1], sys.argv[2]
    if cmd == "flood":
        flood(addr, int(sys.argv[3]))
    elif cmd == "stall":
        stall(addr, int(sys.argv[3]))
    elif cmd == "pipeline":
        pipeline(addr, int(sys.argv[3]))
    elif cmd == "drip":
        drip(addr)
    sys.stdout.flush()
    os._exit(0)


main()
