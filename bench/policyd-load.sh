#!/usr/bin/env bash
# policyd-load.sh - load benchmark (not a test) of `spfcheck policyd` in
# socket mode against Debian's postfix-policyd-spf-python (pypolicyd-spf),
# the same workload through the same driver (bench/policyd_load.py).
#
# Everything runs inside a network namespace created here (root needed),
# where the fixture DNS server answers on 127.0.0.1:53 with injected
# latency, and /etc/resolv.conf is bind-mounted (in a private mount
# namespace) to "nameserver 127.0.0.1" so pypolicyd-spf, which reads the
# system resolver configuration, asks the fixture too.  Nothing outside
# the namespace is touched; the namespace is deleted at the end.
#
# Workload: DOMAINS (default 2000) sender domains dK.load.test, each
#   "v=spf1 a:mail.dK.load.test include:shared.load.test -all"
# (HELO mail.dK.load.test has an A record and no SPF record), client
# 127.0.0.10 passes through the include: per request a HELO check (1 TXT
# lookup) and a MAIL FROM check (TXT, A, the shared include's TXT).
#
# usage: bench/policyd-load.sh [--latency MS] [--conns C] [--requests N]
#                              [--domains D] [--py-conns C] [--py-requests N]
#        (SPFCHECK=build/cmd/spfcheck DNSFIXTURE=build/tests/dnsfixture)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SPFCHECK=$(readlink -f "${SPFCHECK:-$root/build/cmd/spfcheck}")
DNSFIXTURE=$(readlink -f "${DNSFIXTURE:-$root/build/tests/dnsfixture}")
LAT=${LAT:-5} CONNS=${CONNS:-100} REQS=${REQS:-20000} DOMAINS=${DOMAINS:-2000}
PYCONNS=${PYCONNS:-20} PYREQS=${PYREQS:-2000}
while [ $# -gt 0 ]; do
  case $1 in
    --latency) LAT=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --requests) REQS=$2; shift 2 ;;
    --domains) DOMAINS=$2; shift 2 ;;
    --py-conns) PYCONNS=$2; shift 2 ;;
    --py-requests) PYREQS=$2; shift 2 ;;
    --inner) shift; break ;;
    *) echo "usage: see the head of $0" >&2; exit 64 ;;
  esac
done

if [ "${1:-}" != inner ]; then
  [ "$(id -u)" -eq 0 ] || { echo "policyd-load: needs root (network namespace)" >&2; exit 1; }
  command -v policyd-spf >/dev/null || echo "policyd-load: policyd-spf missing (apt-get install postfix-policyd-spf-python); only spfcheck is measured" >&2
  NS=h8policyd-$$
  W=$(mktemp -d /tmp/policyd-load.XXXXXX)
  trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$W"' EXIT
  ip netns add "$NS"
  ip netns exec "$NS" ip link set lo up
  echo "nameserver 127.0.0.1" >"$W/resolv.conf"
  # the zone
  { echo '$TTL 3600'
    echo 'shared.load.test. IN TXT "v=spf1 ip4:127.0.0.10 ip4:127.0.0.11 -all"'
    for ((k = 0; k < DOMAINS; k++)); do
      echo "d$k.load.test. IN TXT \"v=spf1 a:mail.d$k.load.test include:shared.load.test -all\""
      echo "mail.d$k.load.test. IN A 127.0.0.$((20 + k % 200))"
    done; } >"$W/load.zone"
  export SPFCHECK DNSFIXTURE LAT CONNS REQS DOMAINS PYCONNS PYREQS W
  ip netns exec "$NS" unshare -m bash "$0" --inner inner
  exit $?
fi

# ---- inside the namespace ----
mount --bind "$W/resolv.conf" /etc/resolv.conf
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
mkfifo "$W/fix.in"
"$DNSFIXTURE" --zone "$W/load.zone" --port 53 --latency "$LAT" --max-seconds 3600 \
  <"$W/fix.in" >"$W/fix.out" 2>"$W/fix.err" &
pids+=($!)
exec 8>"$W/fix.in"
for _ in $(seq 100); do grep -q '^PORT' "$W/fix.out" && break; sleep 0.1; done
grep -q '^PORT' "$W/fix.out" || { cat "$W/fix.err"; exit 1; }
# an empty skip_addresses crashes pypolicyd-spf 3.0.4 (TypeError): name
# an address no request uses
printf 'skip_addresses = 192.0.2.255/32\nLookup_Time = 20\ndebugLevel = 0\n' >"$W/policyd.conf"
chmod 644 "$W/policyd.conf"
echo "policyd-load: fixture DNS on 127.0.0.1:53 with ${LAT} ms latency, $DOMAINS domains; $(nproc) CPUs"

# spfcheck policyd, socket mode: one process, one DNS cache
start_spfcheck() {
  rm -f "$W/spfcheck.sock"
  "$SPFCHECK" policyd --listen "unix:$W/spfcheck.sock" --config "$W/policyd.conf" \
    --nameserver 127.0.0.1:53 --log "$W/spfcheck.log" --max-connections 10000 </dev/null &
  spid=$!
  pids+=($spid)
  for _ in $(seq 50); do [ -S "$W/spfcheck.sock" ] && break; sleep 0.1; done
}
stop_spfcheck() {
  echo "  (spfcheck peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$spid/status))"
  kill "$spid"; wait "$spid" 2>/dev/null || true
}
load() { python3 "$here/policyd_load.py" --domains "$DOMAINS" "$@"; }
start_spfcheck
load --target "unix:$W/spfcheck.sock" --conns "$PYCONNS" --requests "$PYREQS" \
  --label "spfcheck(small,cold)"
stop_spfcheck
start_spfcheck
load --target "unix:$W/spfcheck.sock" --conns "$CONNS" --requests "$REQS" --label "spfcheck(cold)"
load --target "unix:$W/spfcheck.sock" --conns "$CONNS" --requests "$REQS" --label "spfcheck(warm)"
stop_spfcheck

if command -v policyd-spf >/dev/null; then
  # pypolicyd-spf: one process per connection (spawn(8) style), as deployed
  # the workload is smaller: it is about 100 times slower
  python3 "$here/policyd_load.py" --spawn "policyd-spf $W/policyd.conf" --conns "$PYCONNS" \
    --requests "$PYREQS" --domains "$DOMAINS" --label "pypolicyd-spf(spawn)"
fi
