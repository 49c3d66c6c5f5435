#!/usr/bin/env bash
# hostile-tree.sh - the worst SPF tree against the policy service and batch
# (issue 21): worst.test includes ten records of about 60 KB of ip4 terms
# (a DNS message holds at most 64 KB), then -all.  Anyone can publish it.
#
#   1. `spfcheck policyd --offline --zone worst.zone --listen inet:...`
#      answers 500 concurrent connections, each one RCPT request for
#      u@worst.test; asserted from /proc, never from wall time:
#      - the daemon's peak RSS (VmHWM) stays under 128 MB;
#      - its CPU time (utime + stime, /proc/PID/stat) for the 500 stays
#        under 1 s;
#      - a request for a small domain whose record is at hand, sent while
#        the 500 are in flight (after the daemon has accepted 100 of them),
#        is answered within a bounded wait (1 s).
#   2. The same with a memory budget of 1 MiB (--memory-budget 1: 16
#      evaluations in flight, the others wait): every request answered,
#      the small domain too, and the budget's report logged at most once
#      (once per interval, not per request).
#   3. `spfcheck explain` of the tree fits a terminal: at most 300 lines,
#      the deciding term, the lookup counters and the byte spans of the
#      runs of ip4 terms summarised in one line each.
#   4. `spfcheck batch --concurrency 1000` on 1000 lines for the same tree:
#      peak RSS (the child's ru_maxrss) under 128 MB, every line answered;
#      with --memory-budget 1 too (waiting lines are evaluated later,
#      never given up).
#
# Under sanitizers (HOSTILE_TREE_SANITIZED=1, set by meson for a
# b_sanitize build) the RSS bounds are not checked (AddressSanitizer's
# shadow memory and quarantine are hundreds of MB by themselves), the CPU
# bound is 10 s and the wait 10 s: the instrumented code is that much
# slower.
#
# usage: hostile-tree.sh SPFCHECK
# Prints "hostile-tree: N passed, N failed"; exit 1 when something failed.
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
client=(python3 "$here/policyd_client.py")
# never a fixed sleep: wait_until, wait_lines (tests/wait.sh)
# shellcheck source=tests/wait.sh
. "$here/wait.sh"
pass=0
fail=0
tmp=$(mktemp -d)
spid=
cleanup() {
  [ -n "$spid" ] && kill "$spid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); [ -n "${3:-}" ] && sed 's/^/  | /' "$3" | head -20; }

RSS_MAX_KB=$((128 * 1024))
CPU_MAX_TICKS=$(getconf CLK_TCK)       # 1 s
WAIT_S=1
SANITIZED=${HOSTILE_TREE_SANITIZED:-0}
if [ "$SANITIZED" = 1 ]; then
  CPU_MAX_TICKS=$((CPU_MAX_TICKS * 10)); WAIT_S=10
fi

# The zone: worst.test and its ten 60 KB records (TXT strings of 255
# bytes), and small.test, a one-term record.
python3 - >"$tmp/worst.zone" <<'EOF'
print("$ORIGIN test.\n$TTL 3600")
print('worst IN TXT "v=spf1 %s -all"' %
      " ".join("include:w%d.worst.test" % i for i in range(10)))
for r in range(10):
    terms = ["v=spf1"]
    n, i = 6, 0
    while n < 60000:
        t = "ip4:10.%d.%d.%d" % (r, (i // 256) % 256, i % 256)
        terms.append(t)
        n += len(t) + 1
        i += 1
    terms.append("~all")
    text = " ".join(terms)
    print("w%d.worst IN TXT %s" % (r, " ".join(
        '"%s"' % text[k:k + 255] for k in range(0, len(text), 255))))
print('small IN TXT "v=spf1 ip4:198.51.100.0/24 -all"')
EOF
[ "$(stat -c %s "$tmp/worst.zone")" -gt 600000 ] && ok "zone: 10 records of 60 KB" ||
  bad "zone" "too small"

# req IP SENDER INSTANCE: one Postfix request at RCPT
req() {
  printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n'
  printf 'client_address=%s\nhelo_name=mail.example\nsender=%s\n' "$1" "$2"
  printf 'recipient=bob@dest.example\ninstance=%s\n\n' "$3"
}

# /proc/PID/stat fields 14 and 15: utime and stime in clock ticks (the
# command name, field 2, may hold spaces: count from after its ')')
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
open_conns() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

printf 'skip_addresses =\n' >"$tmp/c.conf"
# serve [ARGS...]: the daemon on a free port ($port); true once it
# listens.  Another process may take the port between the look and the
# bind, so a bind that fails because the port is in use tries another.
serve() {
  local try
  for try in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    rm -f "$tmp/log"
    "$bin" policyd --config "$tmp/c.conf" --offline --zone "$tmp/worst.zone" \
      --listen "inet:127.0.0.1:$port" --log "$tmp/log" "$@" </dev/null 2>"$tmp/err" &
    spid=$!
    # listening, or gone (a start-up error)
    wait_until 20 eval 'at_least 1 "listening on [0-9]+ socket" "$tmp/log" || ! kill -0 "$spid" 2>/dev/null'
    at_least 1 'listening on [0-9]+ socket' "$tmp/log" && return 0
    wait "$spid" 2>/dev/null; spid=
    grep -qi 'in use' "$tmp/err" || return 1
  done
  return 1
}
# hostile_answered LABEL: the 500 hostile connections (client $hpid) all
# got the fail answer
hostile_answered() {
  local r n
  wait "$hpid"; r=$?
  n=$(grep -c '^action=550 5.7.23' "$tmp/hout")
  { [ $r -eq 0 ] && [ "$n" -eq 500 ]; } && ok "$1: 500 hostile requests answered fail" ||
    bad "$1: 500 hostile requests" "exit $r, $n fail answers" "$tmp/hout"
}
if serve; then
  ok "policyd: listening on 127.0.0.1:$port"
  # warm: the small domain and the tree are at hand from here on (the
  # zone's records are parsed once, then shared by every evaluation)
  { req 198.51.100.1 a@small.test w1; req 198.51.100.1 a@worst.test w2; } >"$tmp/warm"
  "${client[@]}" "inet:127.0.0.1:$port" <"$tmp/warm" >"$tmp/wout"
  grep -q '^action=PREPEND Received-SPF: pass' "$tmp/wout" &&
    grep -q '^action=550 5.7.23' "$tmp/wout" && ok "policyd: warm-up answered" ||
    bad "policyd: warm-up" "" "$tmp/wout"
  fd0=$(open_conns "$spid")
  cpu0=$(cpu_ticks "$spid")

  req 198.51.100.1 u@worst.test h1 >"$tmp/hostile"
  "${client[@]}" "inet:127.0.0.1:$port" --conns 500 --timeout 120 <"$tmp/hostile" >"$tmp/hout" &
  hpid=$!
  # in the middle: once the daemon holds 100 of the 500 connections
  held() { [ $(($(open_conns "$spid") - fd0)) -ge 100 ] || gone "$hpid"; }
  wait_until 30 held
  mid=$(($(open_conns "$spid") - fd0))
  req 198.51.100.1 b@small.test s1 >"$tmp/small"
  "${client[@]}" "inet:127.0.0.1:$port" --timeout "$WAIT_S" <"$tmp/small" >"$tmp/sout"; r=$?
  { [ $r -eq 0 ] && grep -q '^action=PREPEND Received-SPF: pass' "$tmp/sout"; } &&
    ok "policyd: a small domain is answered within ${WAIT_S} s among the hostile ($mid open)" ||
    bad "policyd: small domain among the hostile" "exit $r, $mid connections open" "$tmp/sout"
  hostile_answered "policyd"
  cpu=$(($(cpu_ticks "$spid") - cpu0))
  hwm=$(hwm_kb "$spid")
  echo "     policyd: CPU $cpu ticks for 500 (bound $CPU_MAX_TICKS), VmHWM $hwm kB"
  [ "$cpu" -lt "$CPU_MAX_TICKS" ] && ok "policyd: CPU for the 500 under the bound ($cpu ticks)" ||
    bad "policyd: CPU" "$cpu ticks, bound $CPU_MAX_TICKS"
  if [ "$SANITIZED" = 1 ]; then
    echo "skip policyd: peak RSS (sanitizer build)"
  else
    [ "$hwm" -lt "$RSS_MAX_KB" ] && ok "policyd: peak RSS $hwm kB under 128 MB" ||
      bad "policyd: peak RSS" "$hwm kB"
  fi
  kill -TERM "$spid"; wait "$spid"; spid=
else
  bad "policyd: listening" "did not start" "$tmp/err"
fi

if serve --memory-budget 1; then
  "${client[@]}" "inet:127.0.0.1:$port" <"$tmp/warm" >/dev/null
  "${client[@]}" "inet:127.0.0.1:$port" --conns 500 --timeout 120 <"$tmp/hostile" >"$tmp/hout" &
  hpid=$!
  "${client[@]}" "inet:127.0.0.1:$port" --timeout 60 <"$tmp/small" >"$tmp/sout"; r=$?
  { [ $r -eq 0 ] && grep -q '^action=PREPEND Received-SPF: pass' "$tmp/sout"; } &&
    ok "policyd --memory-budget 1: the small domain answered" ||
    bad "policyd --memory-budget 1: small domain" "exit $r" "$tmp/sout"
  hostile_answered "policyd --memory-budget 1"
  kill -TERM "$spid"; wait "$spid"; spid=
  reports=$(grep -c 'memory budget of 1 MiB' "$tmp/log")
  grep 'memory budget of 1 MiB' "$tmp/log" | sed 's/^/     /'
  [ "$reports" -le 1 ] && ok "policyd --memory-budget 1: $reports budget report(s) logged" ||
    bad "policyd --memory-budget 1: reports" "$reports lines" "$tmp/log"
else
  bad "policyd --memory-budget 1: listening" "did not start" "$tmp/err"
fi

# explain: the whole tree in a few lines, for a client matching nothing
# and for one that term 514 of the fourth record matches
"$bin" explain --offline --zone "$tmp/worst.zone" 198.51.100.1 u@worst.test >"$tmp/ex" 2>&1; r=$?
n=$(wc -l <"$tmp/ex"); c=$(wc -c <"$tmp/ex")
{ [ $r -eq 1 ] && [ "$n" -le 300 ] && [ "$c" -le 30000 ] &&
  grep -q '^└─ -all .*match → fail.*◀ decides' "$tmp/ex" &&
  [ "$(grep -c '4,020 ip4 terms  *no match  \[bytes 7-60005 of the record\]' "$tmp/ex")" -eq 10 ] &&
  grep -q 'lookups 10/10, void lookups 0/2' "$tmp/ex"; } &&
  ok "explain: $n lines, $c bytes, the deciding term, counters and byte spans" ||
  bad "explain of the worst tree" "exit $r, $n lines, $c bytes" "$tmp/ex"
"$bin" explain --offline --zone "$tmp/worst.zone" 10.3.2.1 u@worst.test >"$tmp/ex" 2>&1; r=$?
{ [ $r -eq 0 ] && [ "$(wc -l <"$tmp/ex")" -le 300 ] &&
  grep -q '513 ip4 terms  *no match  \[bytes 7-7478 of the record\]' "$tmp/ex" &&
  grep -q 'ip4:10.3.2.1  *match → pass  ◀ decides' "$tmp/ex" &&
  grep -q '3,507 terms (3,506 ip4, 1 other)  not reached  \[bytes 7493-60010' "$tmp/ex"; } &&
  ok "explain: a match inside a summarised record keeps its own line" ||
  bad "explain: a match inside the record" "exit $r" "$tmp/ex"

# batch: 1000 lines, all in flight at once
for i in $(seq 1000); do echo "198.51.100.1 u$i@worst.test"; done >"$tmp/lines"
python3 - "$bin" "$tmp/worst.zone" "$tmp/lines" "$tmp/bout" <<'EOF' >"$tmp/brss"
import resource, subprocess, sys
spf, zone, lines, out = sys.argv[1:5]
with open(lines, "rb") as i, open(out, "wb") as o:
    rc = subprocess.run([spf, "batch", "--offline", "--zone", zone,
                         "--concurrency", "1000"], stdin=i, stdout=o).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
read -r brc bhwm <"$tmp/brss"
n=$(grep -c 'fail' "$tmp/bout")
{ [ "$brc" -eq 0 ] || [ "$brc" -eq 1 ]; } && [ "$n" -eq 1000 ] &&
  ok "batch: 1000 lines at --concurrency 1000 answered fail" ||
  bad "batch: 1000 lines" "exit $brc, $n fail lines" "$tmp/bout"
echo "     batch: peak RSS $bhwm kB"
if [ "$SANITIZED" = 1 ]; then
  echo "skip batch: peak RSS (sanitizer build)"
else
  [ "$bhwm" -lt "$RSS_MAX_KB" ] && ok "batch: peak RSS $bhwm kB under 128 MB" ||
    bad "batch: peak RSS" "$bhwm kB"
fi


"$bin" batch --offline --zone "$tmp/worst.zone" --concurrency 1000 --memory-budget 1 \
  <"$tmp/lines" >"$tmp/bout" 2>"$tmp/berr"; r=$?
n=$(grep -c 'fail' "$tmp/bout")
[ "$n" -eq 1000 ] && ok "batch --memory-budget 1: 1000 lines answered fail" ||
  bad "batch --memory-budget 1" "exit $r, $n fail lines" "$tmp/berr"
"$bin" batch --memory-budget 0 </dev/null >/dev/null 2>"$tmp/berr"; r=$?
[ $r -eq 64 ] && grep -q 'memory-budget must be' "$tmp/berr" &&
  ok "batch --memory-budget 0: refused (exit 64)" || bad "batch --memory-budget 0" "exit $r" "$tmp/berr"

echo "hostile-tree: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
