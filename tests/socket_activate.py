#!/usr/bin/env python3
"""socket_activate.py - start a command the way systemd starts a socket-
activated service, for the tests (no systemd needed).

usage: socket_activate.py [--unix PATH] [--inet-port-file FILE]
                          [--connected] [--names A:B] -- COMMAND [ARGS...]

Opens the listening sockets (--unix PATH: a unix stream socket, mode
0666; --inet-port-file FILE: a TCP socket on 127.0.0.1, a free port,
written to FILE; --connected: one end of a connected socket pair, what a
wrong Accept=yes unit would pass), in that order, as descriptors 3, 4,
...; sets LISTEN_PID to its own pid, LISTEN_FDS and (with --names)
LISTEN_FDNAMES, and execs COMMAND, which so keeps the pid.
"""
import argparse
import fcntl
import os
import socket
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--unix")
ap.add_argument("--inet-port-file")
ap.add_argument("--connected", action="store_true")
ap.add_argument("--names")
ap.add_argument("command", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
if not cmd:
    ap.error("no command")

socks = []
if a.unix:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0)
    s.bind(a.unix)
    os.umask(old)
    s.listen(64)
    socks.append(s)
if a.inet_port_file:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    with open(a.inet_port_file, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    socks.append(s)
if a.connected:
    s, peer = socket.socketpair()
    socks.append(s)

# descriptors 3, 4, ...: out of the way first (100 up), then into place
held = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100) for s in socks]
for s in socks:
    s.close()
for i, fd in enumerate(held):
    os.dup2(fd, 3 + i, inheritable=True)
    os.close(fd)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = str(len(held))
if a.names:
    os.environ["LISTEN_FDNAMES"] = a.names
sys.stdout.flush()
os.execvp(cmd[0], cmd)
