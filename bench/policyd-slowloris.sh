#!/usr/bin/env bash
# policyd-slowloris.sh - how soon `spfcheck policyd` answers a good client
# while N stalled connections (59 bytes of a request each, then nothing)
# hold every one of its --max-connections N slots (issue 14, item 2).  The
# test suite asserts only that the client is answered; this measures when.
# Prints the latency of 5 requests in a row (the first has to wait until
# the oldest stalled connection has been idle 1 s and can be evicted) and
# how many eviction lines were logged.
#
# usage: bench/policyd-slowloris.sh [N]      (default 1000;
#        SPFCHECK=build/cmd/spfcheck)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SPFCHECK=$(readlink -f "${SPFCHECK:-$root/build/cmd/spfcheck}")
n=${1:-1000}
tmp=$(mktemp -d)
spid= stpid=
cleanup() {
  exec 7>&- 2>/dev/null || true
  [ -n "$stpid" ] && kill "$stpid" 2>/dev/null
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# wait_for SECONDS REGEX FILE
wait_for() {
  local end=$(($(date +%s) + $1))
  until grep -Eq -- "$2" "$3" 2>/dev/null; do
    [ "$(date +%s)" -le "$end" ] || { echo "policyd-slowloris: no /$2/ in ${3##*/}" >&2; exit 1; }
    sleep 0.05
  done
}
: >"$tmp/c.conf"
ulimit -n $((n + 200)) 2>/dev/null || true
"$SPFCHECK" policyd --config "$tmp/c.conf" --offline --zone "$root/testdata/demo.zone" \
  --listen "unix:$tmp/s.sock" --max-connections "$n" --log "$tmp/log" </dev/null 2>"$tmp/err" &
spid=$!
wait_for 20 'listening on [0-9]+ socket' "$tmp/log"
mkfifo "$tmp/stall.in"
python3 "$root/tests/policyd_probe.py" stall "unix:$tmp/s.sock" "$n" <"$tmp/stall.in" >"$tmp/stall.out" &
stpid=$!
exec 7>"$tmp/stall.in"
wait_for 60 '^ready' "$tmp/stall.out"
echo "$n stalled connections hold every slot"
python3 - "$tmp/s.sock" <<'PY'
import socket, sys, time
REQ = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
       b"client_address=127.0.0.1\nhelo_name=x.test\nsender=a@example.com\n"
       b"recipient=b@x.test\ninstance=slow%d\n\n")
for k in range(5):
    t = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sys.argv[1])
    s.sendall(REQ % k)
    d = b""
    while b"\n\n" not in d:
        c = s.recv(4096)
        if not c:
            break
        d += c
    s.close()
    print("request %d: %s in %.1f ms" % (k + 1,
          "answered" if d.startswith(b"action=") else "not answered",
          (time.monotonic() - t) * 1000))
PY
echo "eviction lines logged: $(grep -c 'evicted' "$tmp/log" || true)"
