#!/usr/bin/env bash
# postfix-e2e.sh - end-to-end test of `spfcheck policyd` behind a real
# Postfix (Debian's package), on loopback only.
#
# A private Postfix instance (its own config directory, queue and data
# directories under a temporary directory; `postfix -c DIR`) listens on
# 127.0.0.1 on a free port; its master.cf and main.cf get the lines
# README.Debian gives to paste (debian/spfcheck.README.Debian, or
# E2E_README=FILE): first spawn mode (spawn(8), user=nobody), then socket
# mode (--listen unix:..., --user nobody; or the unit, below); only the
# binary, the configuration file, the DNS server and the log are the
# test's.  The fixture DNS server serves
# testdata/policyd.zone.  swaks sends from 127.0.0.x source addresses:
#   pass      -> accepted, delivered (virtual(8) maildir) with one
#                Received-SPF: pass header, also with two recipients
#   fail      -> 550 5.7.23 at RCPT
#   temperror -> 450 (DEFER_IF_PERMIT, TempError_Defer = True)
#
# It installs nothing: .ci/run installs postfix and swaks.  Needs root
# (Postfix's master runs as root).  A step that cannot run is reported
# and FAILS the test.  Every process it starts is stopped on exit.
#
# The installed package (issue 18), with SPFCHECK=/usr/bin/spfcheck:
#   E2E_CONFIG=FILE  the policy service's configuration is FILE (the
#                    installed /etc/spfcheck/policyd.conf) with the
#                    test's settings appended (later lines win);
#   E2E_UNIT=FILE    socket mode runs FILE's ExecStart= (the installed
#                    spfcheck-policyd.service) with its socket passed as
#                    systemd passes it, at queue_directory/private/spfcheck,
#                    as README.Debian says: check_policy_service
#                    unix:private/spfcheck;
#   E2E_README=FILE  the README.Debian to take the Postfix lines from
#                    (the installed /usr/share/doc/spfcheck/README.Debian).
# usage: postfix-e2e.sh SPFCHECK DNSFIXTURE ZONE
# Prints "postfix-e2e: N passed, N failed".
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
here=$(cd "$(dirname "$0")" && pwd)
# never a fixed sleep: wait_until, wait_lines, gone (tests/wait.sh)
# shellcheck source=tests/wait.sh
. "$here/wait.sh"
bin=$(readlink -f "$1")
fixture=$(readlink -f "$2")
zone=$(readlink -f "$3")
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
finish() {
  echo "postfix-e2e: $pass passed, $fail failed"
  [ "$fail" -eq 0 ] && exit 0
  exit 1
}

# ---- can it run at all? ----
for c in postfix postconf swaks python3; do
  command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
  if ! command -v "$c" >/dev/null 2>&1; then
    bad "prerequisites" "$c is not installed (.ci/run installs postfix and swaks)"; finish
  fi
done
if [ "$(id -u)" -ne 0 ]; then bad "prerequisites" "must run as root to start Postfix"; finish; fi
if ! id postfix >/dev/null 2>&1 || ! getent group postdrop >/dev/null; then
  bad "prerequisites" "the postfix user or the postdrop group is missing"; finish
fi

# ---- README.Debian's Postfix lines: the test pastes those ----
# readme_lines SECTION FILE: the lines README.Debian gives to paste into
# /etc/postfix/FILE in its section whose title starts with SECTION, one
# a line, an indented continuation joined to its line
readme=${E2E_README:-$here/../debian/spfcheck.README.Debian}
readme_lines() {
  zcat -f -- "$readme" | awk -v sec="$1" -v hdr="/etc/postfix/$2:" '
    function out() { if (e != "") print e; e = "" }
    /^(Spawn|Socket) mode/ { out(); state = 0; insec = (index($0, sec) == 1); next }
    insec && $0 == hdr { state = 1; next }
    state == 1 && /^$/ { next }
    state == 1 && /^  / { state = 2 }
    state == 2 && /^  [^ ]/ { out(); e = substr($0, 3); next }
    state == 2 && /^   / { s = $0; sub(/^ +/, "", s); e = e " " s; next }
    state == 2 { out(); state = 0 }
    END { out() }'
}
spawn_master=$(readme_lines "Spawn mode" master.cf)
spawn_main=$(readme_lines "Spawn mode" main.cf)
socket_main=$(readme_lines "Socket mode" main.cf)
read -ra mf <<<"$spawn_master"
if [ "${mf[0]:-}:${mf[1]:-}:${mf[7]:-}:${mf[9]:-}" != "policyd-spf:unix:spawn:argv=/usr/bin/spfcheck" ] ||
   [[ ${mf[8]:-} != user=?* ]] || [[ " ${mf[*]} " != *" --config "* ]] ||
   ! grep -Eq '^smtpd_recipient_restrictions = .*check_policy_service unix:private/policyd-spf$' <<<"$spawn_main" ||
   ! grep -Eq '^smtpd_recipient_restrictions = .*check_policy_service unix:private/spfcheck$' <<<"$socket_main"; then
  bad "README.Debian's Postfix lines" "not found in $readme: master.cf '$spawn_master', main.cf '$spawn_main' and '$socket_main'"
  finish
fi
ok "README.Debian's master.cf and main.cf lines of both modes read from $readme"
runner=${mf[8]#user=}
id "$runner" >/dev/null 2>&1 || { bad "prerequisites" "no user $runner"; finish; }
if ! su -s /bin/sh "$runner" -c "test -x '$bin'"; then
  bad "prerequisites" "$bin is not executable by $runner"; finish
fi

T=$(mktemp -d /tmp/postfix-e2e.XXXXXX)
chmod 755 "$T"
C=$T/conf
fixpid=""
sockpid=""
postfix_up=false
master_pid() { tr -d ' ' <"$T/queue/pid/master.pid" 2>/dev/null; }
stop_master() {
  local mp; mp=$(master_pid)
  if [ -n "$mp" ]; then
    wait_until 10 gone "$mp"
    kill -9 "$mp" 2>/dev/null
  fi
}
cleanup() {
  $postfix_up && postfix -c "$C" stop >/dev/null 2>&1
  # the master waits for its children; wait for it to go, then make sure
  stop_master
  [ -n "$sockpid" ] && kill "$sockpid" 2>/dev/null && wait "$sockpid" 2>/dev/null
  [ -n "$fixpid" ] && kill "$fixpid" 2>/dev/null && wait "$fixpid" 2>/dev/null
  # spawned policy services exit on their own when smtpd closes them
  if [ "${KEEP:-}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# ---- the fixture DNS server ----
mkfifo "$T/fix.in"
"$fixture" --zone "$zone" --mode temp.policy.test=servfail --max-seconds 600 \
  <"$T/fix.in" >"$T/fix.out" 2>"$T/fix.err" &
fixpid=$!
exec 8>"$T/fix.in"
wait_lines 1 '^PORT' "$T/fix.out"
dnsport=$(awk '/^PORT/ {print $2}' "$T/fix.out")
if [ -z "$dnsport" ]; then bad "fixture DNS server" "did not start: $(cat "$T/fix.err")"; finish; fi
ok "fixture DNS server on 127.0.0.1:$dnsport"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the policy service's files ----
if [ -n "${E2E_CONFIG:-}" ]; then
  if cp "$E2E_CONFIG" "$T/policyd.conf"; then
    ok "configuration: $E2E_CONFIG, the test's settings appended"
  else
    bad "configuration" "cannot read $E2E_CONFIG"; finish
  fi
fi
cat >>"$T/policyd.conf" <<EOF
# spfcheck policyd for the e2e test: pypolicyd-spf option names
debugLevel = 1
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = True
# the test clients are 127.0.0.x: check them
skip_addresses = ::1
Lookup_Time = 5
EOF
chmod 644 "$T/policyd.conf"
: >"$T/policyd.log"
chown "$runner" "$T/policyd.log"

# ---- the Postfix instance ----
mkdir -p "$C" "$T/queue" "$T/data" "$T/mail"
chown postfix "$T/data"
runner_uid=$(id -u "$runner"); runner_gid=$(id -g "$runner")
chown "$runner_uid:$runner_gid" "$T/mail"
cp /etc/postfix/master.cf "$C/master.cf"
cat >"$C/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.dest.test
mydomain = dest.test
myorigin = dest.test
mydestination = localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtputf8_enable = no
biff = no
virtual_mailbox_domains = dest.test
virtual_mailbox_base = $T/mail
virtual_mailbox_maps = texthash:$C/vmailbox
virtual_uid_maps = static:$runner_uid
virtual_gid_maps = static:$runner_gid
virtual_minimum_uid = 1
smtpd_policy_service_timeout = 30s
smtpd_policy_service_try_limit = 1
EOF
printf 'bob@dest.test bob/\ncarol@dest.test carol/\n' >"$C/vmailbox"
# every service unchrooted; smtpd on our port instead of 25
postconf -c "$C" -F '*/*/chroot = n' >/dev/null
postconf -c "$C" -MX smtp/inet
# spawn mode: README.Debian's lines as they are, but for the spfcheck
# under test, its configuration (the test's copy), DNS server and log
entry=()
for ((i = 0; i < ${#mf[@]}; i++)); do
  case ${mf[i]} in
    argv=/usr/bin/spfcheck) entry+=("argv=$bin") ;;
    --config) entry+=(--config "$T/policyd.conf"); i=$((i + 1)) ;;
    *) entry+=("${mf[i]}") ;;
  esac
done
postconf -c "$C" -M "policyd-spf/unix = ${entry[*]} --nameserver 127.0.0.1:$dnsport --log $T/policyd.log"
while read -r line; do postconf -c "$C" -e "$line"; done <<<"$spawn_main"
# Postfix commands log to syslog, or to stderr only when it is a terminal
why() { script -qc "$*" /dev/null 2>&1 | tail -3; }
if ! postfix -c "$C" check >"$T/check.log" 2>&1; then
  bad "postfix check" "$(why postfix -c "$C" check)"; finish
fi
# greets PORT: our smtpd answers on PORT (its banner names mx.dest.test)
greets() {
  python3 - "$1" 2>/dev/null <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(5)
sys.exit(0 if s.recv(512).startswith(b"220 mx.dest.test") else 1)
PY
}
# smtpd on a free port: another process may take it between the look and
# the bind, so a bind that fails because the port is in use tries another
greeted=false
for _ in 1 2 3 4 5; do
  smtpport=$(free_port)
  postconf -c "$C" -M "127.0.0.1:$smtpport/inet = 127.0.0.1:$smtpport inet n - n - - smtpd"
  if ! postfix -c "$C" start >"$T/start.log" 2>&1; then
    bad "postfix start" "$(cat "$T/start.log"; tail -5 "$T/maillog" 2>/dev/null)"; finish
  fi
  postfix_up=true
  if wait_until 30 greets "$smtpport"; then greeted=true; break; fi
  grep -q "port $smtpport: Address already in use" "$T/maillog" 2>/dev/null || break
  postfix -c "$C" stop >/dev/null 2>&1; postfix_up=false
  stop_master
  postconf -c "$C" -MX "127.0.0.1:$smtpport/inet"
done
if $greeted; then
  ok "private Postfix $(postconf -d -h mail_version) listening on 127.0.0.1:$smtpport"
else
  bad "postfix start" "smtpd does not answer on 127.0.0.1:$smtpport"; tail -20 "$T/maillog"; finish
fi

# send NAME SRC-IP HELO FROM TO...: swaks transcript in $T/NAME.swaks
send() {
  local name=$1 ip=$2 helo=$3 from=$4; shift 4
  local to; to=$(IFS=,; echo "$*")
  swaks --server 127.0.0.1 --port "$smtpport" --local-interface "$ip" --helo "$helo" \
    --from "$from" --to "$to" --header "Subject: e2e $name" --timeout 40 \
    >"$T/$name.swaks" 2>&1
}

# delivered BOX SUBJECT: the delivered file of that message, waiting up to 60 s
delivered_file() { grep -l "Subject: e2e $2\$" "$T/mail/$1"/new/* 2>/dev/null | head -1; }
delivered() {
  wait_until 60 has_file "$1" "$2" || return 1
  delivered_file "$1" "$2"
}
has_file() { [ -n "$(delivered_file "$1" "$2")" ]; }

run_cases() {  # run_cases MODE
  local m=$1 f n
  send "pass-$m" 127.0.0.10 mail.pass.policy.test Alice@pass.policy.test bob@dest.test carol@dest.test
  if grep -q '<-  250 .*queued as' "$T/pass-$m.swaks"; then
    ok "$m: pass accepted"
    for box in bob carol; do
      if f=$(delivered $box "pass-$m"); then
        n=$(grep -c '^Received-SPF: pass ' "$f")
        if [ "$n" -eq 1 ] && grep -q 'envelope-from="Alice@pass.policy.test"' "$f"; then
          ok "$m: pass delivered to $box with one Received-SPF: pass header"
        else
          bad "$m: Received-SPF in $box's copy" "$n headers"; sed 's/^/  | /' "$f" | head -20
        fi
      else
        bad "$m: pass delivered to $box" "nothing delivered within 60 s"; tail -5 "$T/maillog"
      fi
    done
  else
    bad "$m: pass accepted" "$(grep -E '^ *<[~*]' "$T/pass-$m.swaks" | tail -3)"
  fi

  send "fail-$m" 127.0.0.12 client.example.test someone@fail.policy.test bob@dest.test
  if grep -Eq '<\*\* +550 5\.7\.23 .*may not send mail for fail\.policy\.test' "$T/fail-$m.swaks"; then
    ok "$m: fail rejected with 550 5.7.23 and the explanation"
  else
    bad "$m: fail rejected with 550" "$(grep -E '^ *<' "$T/fail-$m.swaks" | tail -3)"
  fi

  send "temp-$m" 127.0.0.13 client.example.test someone@temp.policy.test bob@dest.test
  if grep -Eq '<\*\* +450 4\.7\.' "$T/temp-$m.swaks"; then
    ok "$m: temperror deferred with 450"
  else
    bad "$m: temperror deferred with 450" "$(grep -E '^ *<' "$T/temp-$m.swaks" | tail -3)"
  fi
}

run_cases spawn
if grep -q 'mfrom_result=pass' "$T/policyd.log" && ! grep -Eq '\]: error: ' "$T/policyd.log"; then
  ok "spawn: decisions logged to the log file"
else
  bad "spawn: log" "$(tail -3 "$T/policyd.log")"
fi
if grep -Eq 'warning: .*(policy|malformed|premature)' "$T/maillog"; then
  bad "spawn: Postfix saw no protocol trouble" "$(grep -E 'warning: .*(policy|malformed|premature)' "$T/maillog" | head -3)"
else
  ok "spawn: Postfix saw no protocol trouble"
fi

# ---- socket mode: one daemon, smtpd connects to its unix socket ----
: >"$T/policyd-sock.log"; chown "$runner" "$T/policyd-sock.log"
mkdir -p "$T/run"; chown "$runner" "$T/run"
if [ -n "${E2E_UNIT:-}" ]; then
  # the unit's command line as systemd runs it: the socket opened first
  # and passed (LISTEN_FDS), the service as an unprivileged user
  # (DynamicUser= there, $runner here); the log and the fixture's DNS
  # server added, and --config again for the test's settings (the last
  # of an option wins)
  read -ra unitcmd <<<"$(sed -n 's/^ExecStart=//p' "$E2E_UNIT")"
  if [ "${unitcmd[0]:-}" = "$bin" ] && [ "${unitcmd[1]:-}" = policyd ]; then
    ok "socket mode: $E2E_UNIT runs $bin policyd"
  else
    bad "socket mode: $E2E_UNIT" "ExecStart= is '${unitcmd[*]:-}', not $bin policyd ..."
  fi
  # the .socket beside it listens where README.Debian's line points
  # smtpd (private/ of Debian's queue directory), with the name the
  # service looks for
  unitsock=${E2E_UNIT%.service}.socket
  if [ "$(sed -n 's/^ListenStream=//p' "$unitsock" 2>/dev/null)" = /var/spool/postfix/private/spfcheck ] &&
     [ "$(sed -n 's/^FileDescriptorName=//p' "$unitsock")" = policy ]; then
    ok "socket mode: $unitsock listens on /var/spool/postfix/private/spfcheck (unix:private/spfcheck)"
  else
    bad "socket mode: $unitsock" "ListenStream= or FileDescriptorName= is not /var/spool/postfix/private/spfcheck, policy"
  fi
  sock=$T/queue/private/spfcheck
  python3 "$here/socket_activate.py" --unix "$sock" --names policy -- \
    setpriv --reuid="$runner_uid" --regid="$runner_gid" --clear-groups -- \
    "${unitcmd[@]}" --config "$T/policyd.conf" --nameserver "127.0.0.1:$dnsport" \
    --log "$T/policyd-sock.log" </dev/null 2>"$T/sock.err" &
  sockpid=$!
  wait_until 20 eval 'at_least 1 "listening on [0-9]+ socket" "$T/policyd-sock.log" || ! kill -0 "$sockpid" 2>/dev/null'
  if at_least 1 'listening on 1 socket' "$T/policyd-sock.log" &&
     grep -q 'socket policy (descriptor 3) passed by the service manager' "$T/policyd-sock.log"; then
    ok "socket mode: the unit's service listening on the passed socket $sock"
  else
    bad "socket mode" "the unit's service did not start: $(cat "$T/sock.err" "$T/policyd-sock.log")"
    finish
  fi
  # README.Debian's line: the socket under the queue directory
  policy_socket=unix:private/spfcheck
else
  "$bin" policyd --listen "unix:$T/run/policyd.sock" --user "$runner" --config "$T/policyd.conf" \
    --nameserver "127.0.0.1:$dnsport" --log "$T/policyd-sock.log" </dev/null 2>"$T/sock.err" &
  sockpid=$!
  wait_until 20 test -S "$T/run/policyd.sock"
  if [ -S "$T/run/policyd.sock" ]; then
    ok "socket mode: listening on unix:$T/run/policyd.sock as $runner"
  else
    bad "socket mode" "the service did not start: $(cat "$T/sock.err")"
    finish
  fi
  policy_socket=unix:$T/run/policyd.sock
fi
# README.Debian's socket-mode main.cf lines (the socket where the test
# has it when it runs no unit)
while read -r line; do
  postconf -c "$C" -e "${line//unix:private\/spfcheck/$policy_socket}"
done <<<"$socket_main"
# the reload is done when the master says so and the smtpd processes
# of the old configuration are gone
olds=$(pgrep -P "$(master_pid)" -x smtpd | tr '\n' ' ')
n=$(lines 'reload -- version' "$T/maillog")
postfix -c "$C" reload >/dev/null 2>&1
wait_lines $((n + 1)) 'reload -- version' "$T/maillog"
# shellcheck disable=SC2086
wait_until 60 gone $olds || echo "  (smtpd of the old configuration still running: $olds)"
run_cases socket
grep -q 'mfrom_result=pass' "$T/policyd-sock.log" && ok "socket: the socket service answered" ||
  bad "socket: the socket service answered" "$(tail -3 "$T/policyd-sock.log")"

finish
