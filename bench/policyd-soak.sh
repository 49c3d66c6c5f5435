#!/usr/bin/env bash
# policyd-soak.sh - soak of `spfcheck policyd` in socket mode (issue 14): a
# steady mixed load of Postfix-like clients with misbehaving ones mixed in
# (a pipeliner that never reads, 50 slowloris connections, a dripper, junk),
# for SECONDS.  It samples the service's RSS and open descriptors every few
# seconds, prints the samples, and fails when the median of the last third
# exceeds the median of the first third by more than the margin (RSS: 10 %
# plus 4 MiB; descriptors: 20), or when no good request was answered.
# Not part of the test suite: a 5-minute run is what the issue asks for.
#
# usage: bench/policyd-soak.sh SECONDS [INTERVAL]
#        (SPFCHECK=build/cmd/spfcheck)
# The zone is offline (--offline --zone): no DNS server, no network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SPFCHECK=$(readlink -f "${SPFCHECK:-$root/build/cmd/spfcheck}")
secs=${1:?usage: policyd-soak.sh SECONDS [INTERVAL]}
interval=${2:-5}
tmp=$(mktemp -d)
spid=
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# 50 domains of each kind; HELO names have no record (none)
for k in $(seq 0 49); do
  echo "d$k.pass.soak.test. IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\""
  echo "d$k.fail.soak.test. IN TXT \"v=spf1 -all\""
  echo "d$k.soft.soak.test. IN TXT \"v=spf1 ~all\""
done >"$tmp/soak.zone"
printf 'debugLevel = 1\n' >"$tmp/soak.conf"
chmod 644 "$tmp/soak.conf"

# short limits, so that the misbehaving clients cycle many times
"$SPFCHECK" policyd --config "$tmp/soak.conf" --offline --zone "$tmp/soak.zone" \
  --listen "unix:$tmp/soak.sock" --max-connections 200 --receive-timeout 2 \
  --send-timeout 3 --idle-timeout 30 --log-format compact --log "$tmp/soak.log" \
  </dev/null 2>"$tmp/soak.err" &
spid=$!
for _ in $(seq 200); do
  grep -q 'listening on' "$tmp/soak.log" 2>/dev/null && break
  kill -0 "$spid" 2>/dev/null || { cat "$tmp/soak.err" "$tmp/soak.log"; exit 1; }
  sleep 0.1
done
echo "spfcheck policyd (pid $spid), $secs s, a sample every $interval s"
rc=0
python3 "$here/policyd_soak.py" "unix:$tmp/soak.sock" "$spid" "$secs" --interval "$interval" || rc=$?
echo "log: $(wc -l <"$tmp/soak.log") lines, $(grep -c 'warning' "$tmp/soak.log") warnings"
grep -E 'slots taken|not received whole|not read by the client|malformed' "$tmp/soak.log" |
  sed -E 's/^[^ ]+ [^ ]+ //; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -6
kill -TERM "$spid"; wait "$spid" || rc=1
spid=
exit $rc
