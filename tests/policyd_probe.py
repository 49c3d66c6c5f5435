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
  drain FD REGEX S    read the inherited descriptor FD (the read end of a
                      log FIFO) without blocking until a line matching
                      REGEX arrives or S seconds pass; print that line,
                      or "none" and the bytes read.
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


def drain(fd, regex, seconds):
    import re
    os.set_blocking(fd, False)
    end = time.monotonic() + seconds
    buf, total = b"", 0
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        total += len(chunk)
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        for line in lines:
            if re.search(regex, line.decode("utf-8", "replace")):
                print(line.decode("utf-8", "replace"))
                return
    print("none after %d bytes" % total)


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
    if cmd == "drain":
        drain(int(addr), sys.argv[3], float(sys.argv[4]))
        sys.stdout.flush()
        os._exit(0)
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
