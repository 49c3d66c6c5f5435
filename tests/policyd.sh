#!/usr/bin/env bash
# policyd.sh - protocol tests of `spfcheck policyd` against the fixture DNS
# server: stdin/stdout (spawn) mode, a unix socket and an inet socket on
# 127.0.0.1; mapping, instance caching, whitelists, junk / over-long / NUL
# input, persistent and concurrent connections, deadlines, SIGHUP reload,
# SIGTERM, and configuration errors.
# usage: policyd.sh SPFCHECK DNSFIXTURE ZONE
# Prints "policyd: N passed, N failed"; exit 1 when something failed.
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
fixture=$2
zone=$3
here=$(cd "$(dirname "$0")" && pwd)
client=(python3 "$here/policyd_client.py")
serve_pre=()   # a command serve runs the service under (prlimit)
spawn_extra=() # more options for spawn
pass=0
fail=0
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  exec 8>&- 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); [ -n "${3:-}" ] && sed 's/^/  | /' "$3"; }

# never a fixed sleep: wait_until, wait_lines (tests/wait.sh)
# shellcheck source=tests/wait.sh
. "$here/wait.sh"

# The fixture DNS server: its stdin is fd 8, closing it stops the server.
mkfifo "$tmp/fix.in"
"$fixture" --zone "$zone" --mode temp.policy.test=servfail --mode slow.policy.test=drop \
  --max-seconds 300 <"$tmp/fix.in" >"$tmp/fix.out" 2>"$tmp/fix.err" &
pids+=($!)
exec 8>"$tmp/fix.in"
wait_lines 1 '^PORT' "$tmp/fix.out"
port=$(awk '/^PORT/ {print $2}' "$tmp/fix.out")
if [ -z "$port" ]; then
  echo "FAIL fixture: the DNS fixture did not start"; cat "$tmp/fix.err"
  echo "policyd: 0 passed, 1 failed"; exit 1
fi
ns=(--nameserver "127.0.0.1:$port" --timeout 300)

# req IP HELO SENDER INSTANCE [STATE] [EXTRA-LINE]: one Postfix 3.7 request
req() {
  printf 'request=smtpd_access_policy\nprotocol_state=%s\nprotocol_name=ESMTP\n' "${5:-RCPT}"
  printf 'client_address=%s\nclient_name=unknown\nclient_port=40000\nreverse_client_name=unknown\n' "$1"
  printf 'server_address=127.0.0.1\nserver_port=25\nhelo_name=%s\nsender=%s\n' "$2" "$3"
  printf 'recipient=bob@dest.test\nrecipient_count=0\nqueue_id=\ninstance=%s\nsize=0\n' "$4"
  printf 'etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n'
  printf 'ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n'
  printf 'encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\npolicy_context=\n'
  [ -n "${6:-}" ] && printf '%s\n' "$6"
  printf '\n'
}

conf() { printf '%b' "$1" >"$tmp/c.conf"; chmod 644 "$tmp/c.conf"; }

# spawn NAME CONFIG-TEXT: run stdin/stdout mode on $tmp/in; replies in
# $tmp/out (one per line), log in $tmp/log, stderr in $tmp/err
spawn() {
  conf "$2"
  rm -f "$tmp/log"
  timeout 20 "$bin" policyd --config "$tmp/c.conf" "${ns[@]}" --log "$tmp/log" "${spawn_extra[@]}" \
    <"$tmp/in" >"$tmp/raw" 2>"$tmp/err"
  rc=$?
  # one reply per line
  awk 'BEGIN { RS = ""; ORS = "\n" } { gsub(/\n/, "\\n"); print }' "$tmp/raw" >"$tmp/out"
}

# expect NAME LINE REGEX: line LINE of $tmp/out matches REGEX
expect() {
  local got
  got=$(sed -n "$2p" "$tmp/out")
  if [[ "$got" =~ $3 ]]; then ok "$1"; else bad "$1" "reply $2 is '$got', want /$3/" "$tmp/log"; fi
}

noskip='skip_addresses =\n'
P=pass.policy.test

# ---- spawn mode: mapping ----
{ req 127.0.0.10 mail.$P Alice.Smith@$P i1
  req 127.0.0.10 mail.$P Alice.Smith@$P i1
  req 127.0.0.12 x.test a@fail.policy.test i2
  req 127.0.0.12 x.test a@temp.policy.test i3
  req 127.0.0.12 bad.helo.policy.test '' i4
  req 127.0.0.12 x.test a@perm.policy.test i5
  req 127.0.0.12 x.test a@soft.policy.test i6
  req 127.0.0.12 x.test a@nospf.policy.test i7
  req 127.0.0.12 x.test a@fail.policy.test i8 END-OF-MESSAGE
  req 127.0.0.12 x.test a@fail.policy.test i9 RCPT sasl_username=alice
  req 127.0.0.12 mail.$P a@nospf.policy.test i10
  req 127.0.0.12 x.test a@fail.policy.test i2
} >"$tmp/in"
spawn mapping "$noskip"
[ "$rc" -eq 0 ] && ok "spawn: exit 0 at end of input" || bad "spawn: exit 0 at end of input" "exit $rc" "$tmp/log"
expect "pass: Received-SPF prepended" 1 '^action=PREPEND Received-SPF: pass .*identity=mailfrom'
expect "pass: local-part case kept" 1 'envelope-from="Alice.Smith@pass.policy.test"'
expect "instance cached: later recipient DUNNO" 2 '^action=DUNNO$'
expect "fail: 550 5.7.23 with the explanation" 3 '^action=550 5.7.23 Message rejected due to: 127.0.0.12 may not send mail for fail.policy.test\.'
expect "temperror: prepended by default" 4 '^action=PREPEND Received-SPF: temperror '
expect "HELO fail, null sender: rejected" 5 '^action=550 5.7.23 .*s=helo;id=bad.helo.policy.test'
expect "permerror: prepended by default" 6 '^action=PREPEND Received-SPF: permerror '
expect "softfail: prepended (Mail_From_reject = Fail)" 7 '^action=PREPEND Received-SPF: softfail '
expect "MAIL FROM none: none header" 8 '^action=PREPEND Received-SPF: none '
expect "END-OF-MESSAGE: DUNNO" 9 '^action=DUNNO$'
expect "authenticated client: DUNNO" 10 '^action=DUNNO$'
expect "MAIL FROM none, HELO fail header" 11 '^action=550 5.7.23 .*s=helo;id=mail.pass.policy.test'
expect "new instance after others: evaluated again" 12 '^action=550 5.7.23 '
[ "$(wc -l <"$tmp/out")" -eq 12 ] && ok "one reply per request" || bad "one reply per request" "$(wc -l <"$tmp/out") replies" "$tmp/out"
[ ! -s "$tmp/err" ] && ok "spawn: nothing on stderr" || bad "spawn: nothing on stderr" "stderr not empty" "$tmp/err"
grep -q 'client=127.0.0.12 helo=x.test sender=<a@fail.policy.test> .*mfrom_result=fail action="550' "$tmp/log" &&
  ok "one log line per decision" || bad "one log line per decision" "no decision line" "$tmp/log"

# issue 17: Void_Count = per-query counts as pypolicyd-spf (pyspf) does:
# each AAAA-less MX host is a void lookup for an IPv6 client
{ req 2001:db8:77::5 x.test a@v4mx.policy.test v1; } >"$tmp/in"
spawn void-rfc "$noskip"
expect "Void_Count default rfc: pass" 1 '^action=PREPEND Received-SPF: pass '
spawn void-rfc-explicit "${noskip}Void_Count = rfc\n"
expect "Void_Count = rfc: pass" 1 '^action=PREPEND Received-SPF: pass '
spawn void-per-query "${noskip}Void_Count = per-query\n"
expect "Void_Count = per-query: permerror" 1 '^action=PREPEND Received-SPF: permerror .*void'
spawn void-per-query-reject "${noskip}Void_Count = per-query\nPermError_reject = True\n"
expect "Void_Count = per-query, PermError_reject: rejected" 1 '^action=550 5\.7\.24 '

# issue 14: --log-format compact, one short line per decision: the action
# code, not its text (the full line is about 560 bytes)
{ req 127.0.0.12 x.test a@fail.policy.test c1; req 127.0.0.10 mail.$P a@$P c2; } >"$tmp/in"
spawn_extra=(--log-format compact)
spawn compact "$noskip"
spawn_extra=()
c1=$(grep ' 127.0.0.12 x.test <a@fail.policy.test> <bob@dest.test> helo=none mfrom=fail 550 5.7.23 [0-9]*ms$' "$tmp/log")
c2=$(grep " 127.0.0.10 mail.$P <a@$P> <bob@dest.test> helo=pass mfrom=pass PREPEND Received-SPF [0-9]*ms$" "$tmp/log")
{ [ "$rc" -eq 0 ] && [ -n "$c1" ] && [ -n "$c2" ] && [ ${#c1} -lt 160 ]; } &&
  ok "--log-format compact: one short line per decision (${#c1} bytes)" ||
  bad "--log-format compact" "exit $rc" "$tmp/log"
expect "--log-format compact: the replies unchanged" 1 '^action=550 5.7.23 Message rejected due to'

# a repeated reject for the same instance
{ req 127.0.0.12 x.test a@fail.policy.test r1; req 127.0.0.12 x.test a@fail.policy.test r1; } >"$tmp/in"
spawn repeat "$noskip"
expect "instance cached: reject repeated" 2 '^action=550 5.7.23 '

# issue 12: identities as SMTP delivers them.  RFC 7208 §4.3: only a
# malformed domain is none; a quoted local-part or one with a space is
# evaluated, so a domain publishing -all rejects it.  The default
# explanation is readable for IPv6 (%{c}); a zone index is no address.
{ req 127.0.0.12 x.test '"john smith"@bad.helo.policy.test' q1
  req 127.0.0.12 x.test 'Macro Error@bad.helo.policy.test' q2
  req 2001:db8::60 x.test a@bad.helo.policy.test q3
  req 'fe80::1%eth0' x.test a@bad.helo.policy.test q4
  req 127.0.0.12 "JUMPIN' JUPITER" '' q5
  req 127.0.0.12 x.test 'a@b@bad.helo.policy.test' q6; } >"$tmp/in"
spawn identities "$noskip"
expect "quoted local-part: evaluated, rejected" 1 '^action=550 5.7.23 .*id=%22john%20smith%22@bad.helo.policy.test'
expect "local-part with a space: evaluated, rejected" 2 '^action=550 5.7.23 '
expect "IPv6 client: readable default explanation" 3 '^action=550 5.7.23 Message rejected due to: bad.helo.policy.test does not designate 2001:db8::60 as permitted sender'
expect "client address with a zone index: DUNNO" 4 '^action=DUNNO$'
grep -q 'client=fe80::1%eth0 .*note=client address .fe80::1%eth0.: an IPv6 zone index' "$tmp/log" &&
  ok "zone index: the log names the rule" || bad "zone index: the log names the rule" "" "$tmp/log"
expect "null sender, odd HELO: none" 5 '^action=PREPEND Received-SPF: none '
expect "two @: the last one splits" 6 '^action=550 5.7.23 .*id=a@b@bad.helo.policy.test'
[ "$(wc -l <"$tmp/out")" -eq 6 ] && ok "identities: one reply per request" || bad "identities: one reply per request" "$(wc -l <"$tmp/out") replies" "$tmp/out"

# ---- options ----
{ req 127.0.0.12 x.test a@temp.policy.test j1; req 127.0.0.12 x.test a@perm.policy.test j2
  req 127.0.0.12 x.test a@soft.policy.test j3; req 127.0.0.12 x.test a@neutral.policy.test j4; } >"$tmp/in"
spawn options "${noskip}TempError_Defer = True\nPermError_reject = True\nMail_From_reject = SPF_Not_Pass\n"
expect "TempError_Defer: DEFER_IF_PERMIT 4.7.24" 1 '^action=DEFER_IF_PERMIT 4.7.24 '
expect "PermError_reject: 550 5.7.24" 2 '^action=550 5.7.24 '
expect "SPF_Not_Pass: softfail rejected" 3 '^action=550 5.7.23 '
expect "SPF_Not_Pass: neutral rejected" 4 '^action=550 5.7.23 '
spawn options2 "${noskip}TempError_Defer = True\nSPF_Enhanced_Status_Codes = No\nReason_Message = SPF said {spf}\n"
expect "SPF_Enhanced_Status_Codes = No" 1 '^action=DEFER_IF_PERMIT SPF said SPF temperror'

{ req 127.0.0.10 mail.$P a@$P k1; req 127.0.0.10 mail.$P a@$P k1; req 127.0.0.10 mail.$P a@$P k1; } >"$tmp/in"
spawn ar "${noskip}Header_Type = AR\nAuthserv_Id = mx.dest.test\n"
expect "Header_Type = AR" 1 '^action=PREPEND Authentication-Results: mx.dest.test; spf=pass .*smtp.mailfrom=pass.policy.test; spf=pass .*smtp.helo=mail.pass.policy.test'
spawn both "${noskip}Header_Type = both\nHide_Receiver = Yes\n"
expect "Header_Type = both: Received-SPF first" 1 '^action=PREPEND Received-SPF: pass '
expect "Header_Type = both: then Authentication-Results" 2 '^action=PREPEND Authentication-Results: '
expect "Header_Type = both: then DUNNO" 3 '^action=DUNNO$'
if grep -q 'receiver=' "$tmp/out"; then bad "Hide_Receiver" "receiver= present" "$tmp/out"; else ok "Hide_Receiver"; fi
spawn none "${noskip}Header_Type = None\n"
expect "Header_Type = None: DUNNO" 1 '^action=DUNNO$'

{ req 127.0.0.12 x.test a@fail.policy.test t1; } >"$tmp/in"
spawn testonly "${noskip}TestOnly = 0\n"
expect "TestOnly = 0: fail only prepended" 1 '^action=PREPEND Received-SPF: fail '

# whitelists
{ req 127.0.0.10 mail.$P a@fail.policy.test w1
  req 192.0.2.7 x.test a@fail.policy.test w2
  req 127.0.0.30 x.test a@fail.policy.test w3
  req 127.0.0.31 wl.helo.policy.test a@fail.policy.test w4
  req 127.0.0.32 wl.helo.policy.test a@fail.policy.test w5; } >"$tmp/in"
spawn whitelists "skip_addresses = 127.0.0.10, ::1\nWhitelist = 192.0.2.0/24\nDomain_Whitelist = relay.policy.test\nHELO_Whitelist = wl.helo.policy.test\n"
expect "skip_addresses default: 127/8 skipped" 1 '^action=PREPEND X-Comment: SPF check N/A for local connections - client-ip=127.0.0.10'
expect "Whitelist" 2 '^action=PREPEND X-Comment: SPF skipped for whitelisted relay - '
expect "Domain_Whitelist" 3 '^action=PREPEND X-Comment: SPF skipped for whitelisted relay domain'
expect "HELO_Whitelist: name and address" 4 '^action=PREPEND X-Comment: SPF skipped for whitelisted HELO name'
expect "HELO_Whitelist: other address checked" 5 '^action=550 5.7.23 '

# deadlines: slow.policy.test never answers
# (no wall-time assertion: spawn's `timeout 20` bounds each run, and the
# answer says which limit ended it)
{ req 127.0.0.12 x.test a@slow.policy.test d1; } >"$tmp/in"
spawn lookup-time "${noskip}Lookup_Time = 1\nTempError_Defer = True\n"
expect "Lookup_Time: temperror, deferred" 1 '^action=DEFER_IF_PERMIT 4.7.24 '
[ "$rc" -eq 0 ] && ok "Lookup_Time: answered, exit 0" || bad "Lookup_Time: answered" "exit $rc" "$tmp/log"
{ req 127.0.0.12 slow.policy.test a@slow.policy.test d2; } >"$tmp/in"
spawn request-time "${noskip}Lookup_Time = 20\nRequest_Time = 1\n"
expect "Request_Time: answered with temperror" 1 '^action=PREPEND Received-SPF: temperror .*deadline'
[ "$rc" -eq 0 ] && ok "Request_Time: answered, exit 0" || bad "Request_Time: answered" "exit $rc" "$tmp/log"
# RFC 7208 §6.2: the explanation's server never answers; Lookup_Time ends
# the wait for it, and the fail stands with the default explanation
{ req 127.0.0.12 x.test a@exp.policy.test e1; } >"$tmp/in"
spawn exp-deadline "${noskip}Lookup_Time = 1\nTempError_Defer = True\n"
expect "exp= server silent past Lookup_Time: still rejected" 1 '^action=550 5.7.23 Message rejected'
# the same through check: with the default deadline (the DNS timeout is a
# DNS error) and with a deadline that ends the wait for the explanation
for dl in "" "--deadline 1000"; do
  # shellcheck disable=SC2086
  out=$("$bin" check "${ns[@]}" $dl 127.0.0.12 a@exp.policy.test); r=$?
  if [ $r -eq 1 ] && [[ "$out" =~ ^fail\ .*mechanism=\"-all\".*explanation= ]] && [[ "$out" != *problem=* ]]; then
    ok "check ${dl:-(default deadline)}: exp= server silent, fail with the default explanation"
  else
    bad "check ${dl:-(default deadline)}: exp= server silent" "exit $r: $out"
  fi
done

# ---- malformed input: logged, closed, no reply ----
junk() {  # junk NAME: $tmp/in holds one good request then the bad one
  spawn "$1" "$noskip"
  if [ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q '^action=' "$tmp/out" &&
     grep -q 'malformed request' "$tmp/log"; then
    ok "$1: good request answered, then closed without a reply"
  else
    bad "$1" "exit $rc, replies: $(wc -l <"$tmp/out")" "$tmp/raw"; cat "$tmp/log" 2>/dev/null | sed 's/^/  log| /'
  fi
}
{ req 127.0.0.12 x.test a@fail.policy.test g1; printf 'GET / HTTP/1.0\n\n'; } >"$tmp/in"; junk "junk line"
{ req 127.0.0.12 x.test a@fail.policy.test g1; printf 'sender=a@b\n\n'; } >"$tmp/in"; junk "missing request="
{ req 127.0.0.12 x.test a@fail.policy.test g1; printf 'request=smtpd_access_policy\nsender=a\0b\n\n'; } >"$tmp/in"; junk "NUL byte"
{ req 127.0.0.12 x.test a@fail.policy.test g1; printf 'request=smtpd_access_policy\nsender='; head -c 9000 /dev/zero | tr '\0' a; printf '\n\n'; } >"$tmp/in"; junk "over-long line"
{ req 127.0.0.12 x.test a@fail.policy.test g1; printf 'request=smtpd_access_policy\nsender='; head -c 100000 /dev/zero | tr '\0' a; } >"$tmp/in"; junk "over-long line without an end"
{ req 127.0.0.12 x.test a@fail.policy.test g1; printf 'request=smtpd_access_policy\nsender=a@b\n'; } >"$tmp/in"
spawn "truncated" "$noskip"
{ [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q 'closed in the middle' "$tmp/log"; } &&
  ok "end of input mid-request: no reply, logged" || bad "end of input mid-request" "" "$tmp/log"

# persistent connection: 200 requests
: >"$tmp/in"; for i in $(seq 200); do req 127.0.0.1$((i % 2)) x.test "u$i@$P" "p$i" >>"$tmp/in"; done
spawn persistent "$noskip"
{ [ "$(wc -l <"$tmp/out")" -eq 200 ] && [ "$(grep -c '^action=PREPEND Received-SPF: pass' "$tmp/out")" -eq 200 ]; } &&
  ok "persistent: 200 requests, 200 replies in order" || bad "persistent" "$(wc -l <"$tmp/out") replies" "$tmp/log"

# issue 14: Request_Time over Postfix's smtpd_policy_service_timeout
# default (100 s) is warned about, and applies
{ req 127.0.0.12 x.test a@fail.policy.test rt1; } >"$tmp/in"
spawn request-time-warning "${noskip}Request_Time = 300\n"
{ [ "$rc" -eq 0 ] && grep -q "c.conf:2: Request_Time 300 s is over Postfix's default smtpd_policy_service_timeout of 100 s" "$tmp/log"; } &&
  ok "Request_Time over 100 s: warned" || bad "Request_Time over 100 s: warned" "exit $rc" "$tmp/log"
expect "Request_Time over 100 s: the request still answered" 1 '^action=550 5.7.23 '
{ req 127.0.0.12 x.test a@fail.policy.test rt2; } >"$tmp/in"
spawn request-time-100 "${noskip}Request_Time = 100\n"
grep -q 'Request_Time' "$tmp/log" && bad "Request_Time 100 s: no warning" "" "$tmp/log" || ok "Request_Time 100 s: no warning"

# ---- startup errors ----
startup() {  # startup NAME REGEX ARGS...: exit 64 and REGEX on stderr
  local name=$1 re=$2; shift 2
  # bounded: a start that blocks (a FIFO as the config) fails, not hangs
  timeout 20 "$bin" policyd "$@" </dev/null >"$tmp/sout" 2>"$tmp/serr"; local r=$?
  if [ $r -eq 64 ] && grep -Eq -- "$re" "$tmp/serr" && [ ! -s "$tmp/sout" ]; then ok "$name"
  else bad "$name" "exit $r" "$tmp/serr"; fi
}
conf "HELO_reject = Fail\nLookup_Time = soon\n"
startup "config: bad value names the line" "c.conf:2: Lookup_Time must be" --config "$tmp/c.conf" --log "$tmp/log"
conf "Unknown_Thing = 1\n"
startup "config: unknown option names the line" "c.conf:1: unknown option 'Unknown_Thing'" --config "$tmp/c.conf" --log "$tmp/log"
startup "options: --json refused" "--json does not apply to spfcheck policyd" --json
startup "options: --deadline refused (Lookup_Time sets it)" "--deadline does not apply" --deadline 100
startup "config: missing file is a startup error" "cannot read the config file" --config "$tmp/nonexistent.conf" --log "$tmp/log"
conf "debugLevel = 1\n"; chmod 666 "$tmp/c.conf"
startup "config: world-writable refused" "writable by everyone" --config "$tmp/c.conf" --log "$tmp/log"
chmod 644 "$tmp/c.conf"
# issue 14: a FIFO as the config file is refused at once (opening it
# waited for a writer forever, with the socket already listening)
mkfifo "$tmp/fifo.conf"
startup "config: a FIFO refused, not waited on" "config file .*fifo.conf is not a regular file" \
  --config "$tmp/fifo.conf" --log "$tmp/log"
startup "config: a directory refused" "config file .* is not a regular file" --config "$tmp" --log "$tmp/log"
# issue 14: the file's bytes are shown as the replies show text ('?')
conf "Lookup_Time = \x01\xff\x1b[31mx\n"
startup "config: control and non-ASCII bytes in a value shown as '?'" \
  "c.conf:1: Lookup_Time must be a number .*, not '\?\?\?\[31mx'$" --config "$tmp/c.conf" --log "$tmp/log"
conf "Lo\x1bkup\xc3\xa9 = 1\n"
startup "config: an option name with control bytes shown with '?'" "c.conf:1: unknown option 'Lo\?kup\?\?'" \
  --config "$tmp/c.conf" --log "$tmp/log"
LC_ALL=C grep -q '[^[:print:]]' "$tmp/serr" && bad "config: no raw bytes in the message" "" "$tmp/serr" ||
  ok "config: no raw bytes in the message"
if id nobody >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  chmod 600 "$tmp/c.conf"; chmod 755 "$tmp"
  "$bin" policyd --config "$tmp/c.conf" --user nobody --log "$tmp/log" --listen "unix:$tmp/nobody.sock" \
    </dev/null >/dev/null 2>"$tmp/serr"; r=$?
  { [ $r -eq 64 ] && grep -q 'Permission denied' "$tmp/serr"; } &&
    ok "config unreadable by --user: loud startup error" || bad "config unreadable by --user" "exit $r" "$tmp/serr"
  chmod 644 "$tmp/c.conf"
fi
startup "--log-format: a bad value refused" "--log-format 'short': not full or compact" --log-format short
startup "--log stderr refused in spawn mode" "not allowed without --listen" --log stderr
startup "bad --listen" "not unix:PATH or inet:HOST:PORT" --listen "tcp:1.2.3.4" --log "$tmp/log"
# the log is in the file, stderr stays clean, when stderr is the socket
{ req 127.0.0.12 x.test a@fail.policy.test s1; } >"$tmp/in"
conf "$noskip"
timeout 10 "$bin" policyd --config "$tmp/c.conf" "${ns[@]}" --log "$tmp/log" <"$tmp/in" >"$tmp/raw" 2>&1
[ "$(cat "$tmp/raw")" = "$(printf 'action=550 5.7.23 Message rejected due to: 127.0.0.12 may not send mail for fail.policy.test. Please see https://www.open-spf.org/Why?s=mfrom;id=a@fail.policy.test;ip=127.0.0.12;r=bob@dest.test\n\n')" ] &&
  ok "stderr = stdout: only the reply reaches the client" || bad "stderr = stdout" "" "$tmp/raw"
# issue 14: in spawn mode a command-line error never reaches the client:
# stdin, stdout and stderr one socket as spawn(8) makes them, then stdout
# and stderr one file.  Nothing is written there, the exit status is not
# 0, and the error is in the log.
python3 - "$bin" "$tmp/log" >"$tmp/spawnerr" <<'EOF'
import socket, subprocess, sys
spf, log = sys.argv[1:3]
for args in (["--bogus"], ["--max-connections", "abc"], ["--max-connections"], ["extra"],
             ["--json"], ["--deadline", "100"], ["--socket-mode", "9"], ["--help"]):
    a, b = socket.socketpair()
    p = subprocess.Popen([spf, "policyd", "--log", log] + args, stdin=b, stdout=b, stderr=b)
    b.close()
    rc = p.wait(timeout=20)
    data = b""
    while True:   # EOF once the service is gone
        chunk = a.recv(4096)
        if not chunk:
            break
        data += chunk
    print("%s: exit %d, %d bytes on the socket" % (" ".join(args), rc, len(data)))
EOF
n=$(grep -c ': exit [1-9][0-9]*, 0 bytes on the socket$' "$tmp/spawnerr")
{ [ "$n" -eq 8 ] && grep -q "error: unknown option '--bogus'" "$tmp/log" &&
  grep -q 'error: --help: stdout is a socket' "$tmp/log"; } &&
  ok "spawn(8) socket: command-line errors and --help logged, nothing on the socket, exit not 0" ||
  bad "spawn(8) socket: command-line errors" "$n of 8 clean" "$tmp/spawnerr"
for a in --bogus "--max-connections abc" --max-connections extra --json; do
  # shellcheck disable=SC2086
  timeout 20 "$bin" policyd --log "$tmp/log" $a </dev/null >"$tmp/raw" 2>&1; r=$?
  { [ $r -ne 0 ] && [ ! -s "$tmp/raw" ]; } &&
    ok "stderr = stdout: '$a' logged, nothing on stdout, exit $r" ||
    bad "stderr = stdout: '$a'" "exit $r" "$tmp/raw"
done

# ---- socket modes ----
# serve ARGS...: start the service in the background, wait for its socket
serve() {
  rm -f "$tmp/slog"
  "${serve_pre[@]}" "$bin" policyd --config "$tmp/c.conf" "${ns[@]}" --log "$tmp/slog" "$@" </dev/null 2>"$tmp/serr" &
  spid=$!
  pids+=($spid)
  # listening, or gone (a start-up error)
  wait_until 20 eval 'at_least 1 "listening on [0-9]+ socket" "$tmp/slog" || ! kill -0 "$spid" 2>/dev/null'
  at_least 1 'listening on [0-9]+ socket' "$tmp/slog"
}
conf "$noskip"
sock="$tmp/policy.sock"
if serve --listen "unix:$sock"; then
  ok "unix socket: listening"
  [ "$(stat -c %a "$sock")" = 666 ] && ok "unix socket: mode 0666" || bad "unix socket mode" "$(stat -c %a "$sock")"
  : >"$tmp/in"; for i in $(seq 20); do req 127.0.0.10 mail.$P "u$i@$P" "u$i" >>"$tmp/in"; req 127.0.0.10 mail.$P "u$i@$P" "u$i" >>"$tmp/in"; done
  "${client[@]}" "unix:$sock" --conns 50 <"$tmp/in" >"$tmp/cout"; r=$?
  n=$(grep -c '^action=PREPEND Received-SPF: pass' "$tmp/cout"); d=$(grep -c '^action=DUNNO$' "$tmp/cout")
  { [ $r -eq 0 ] && [ "$n" -eq 1000 ] && [ "$d" -eq 1000 ]; } &&
    ok "unix socket: 50 concurrent persistent connections, 2000 requests" ||
    bad "unix socket: concurrent" "exit $r, $n prepends, $d dunnos" "$tmp/slog"
  # junk on one connection closes it, others go on
  printf 'junk\n\n' | "${client[@]}" "unix:$sock" --replies 1 --timeout 20 >"$tmp/cout"
  { [ "$(tail -1 "$tmp/cout")" = closed ] && [ "$(wc -l <"$tmp/cout")" -eq 1 ]; } &&
    ok "unix socket: junk closes without a reply" || bad "unix socket: junk" "" "$tmp/cout"
  # SIGHUP: the same connection sees the new config; a bad one is refused
  mkfifo "$tmp/hup.in"
  ( "${client[@]}" "unix:$sock" --stream --replies 3 --timeout 90 <"$tmp/hup.in" >"$tmp/hout" ) &
  cpid=$!
  exec 9>"$tmp/hup.in"
  # each step waits for the log line that says the one before is done:
  # the decision on h1, the re-read, the decision on h2, the refusal
  reread='SIGHUP: configuration re-read'
  decided='sender=<a@temp.policy.test>'
  n=$(lines "$reread" "$tmp/slog")
  req 127.0.0.12 x.test a@temp.policy.test h1 >&9
  wait_lines 1 "$decided" "$tmp/slog"
  conf "${noskip}TempError_Defer = True\nMax_Queries_In_Flight = 7\n"
  kill -HUP "$spid"
  wait_lines $((n + 1)) "$reread" "$tmp/slog"
  grep -q "$reread from .*c.conf (DNS queries in flight: at most 7)" "$tmp/slog" &&
    ok "SIGHUP: Max_Queries_In_Flight applied" ||
    bad "SIGHUP: Max_Queries_In_Flight applied" "" "$tmp/slog"
  req 127.0.0.12 x.test a@temp.policy.test h2 >&9
  wait_lines 2 "$decided" "$tmp/slog"
  conf "${noskip}TempError_Defer = Sometimes\n"
  kill -HUP "$spid"
  wait_lines 1 'keeping the old configuration' "$tmp/slog"
  req 127.0.0.12 x.test a@temp.policy.test h3 >&9
  wait "$cpid"
  exec 9>&-
  sed -n 1p "$tmp/hout" | grep -q '^action=PREPEND Received-SPF: temperror' &&
    sed -n 2p "$tmp/hout" | grep -q '^action=DEFER_IF_PERMIT' &&
    sed -n 3p "$tmp/hout" | grep -q '^action=DEFER_IF_PERMIT' &&
    [ "$(tail -1 "$tmp/hout")" = open ] &&
    ok "SIGHUP: re-read on the same connection, bad config keeps the old" ||
    bad "SIGHUP reload" "" "$tmp/hout"
  grep -q 'TempError_Defer must be True or False.*keeping the old configuration' "$tmp/slog" &&
    ok "SIGHUP: bad config logged with its line" || bad "SIGHUP: bad config logged" "" "$tmp/slog"
  # issue 14: a FIFO in the config file's place is refused on SIGHUP, the
  # old config kept, and the service still answers (it used to block in
  # open() for a writer).  Opening the FIFO read-write afterwards frees a
  # build that blocks, so that the rest of the tests can run.
  rm -f "$tmp/c.conf"; mkfifo "$tmp/c.conf"
  kill -HUP "$spid"
  wait_lines 1 'SIGHUP: config file .*c.conf is not a regular file; keeping the old configuration' "$tmp/slog" &&
    req 127.0.0.12 x.test a@temp.policy.test h4 | "${client[@]}" "unix:$sock" --timeout 10 >"$tmp/cout" &&
    grep -q '^action=DEFER_IF_PERMIT' "$tmp/cout" &&
    ok "SIGHUP: a FIFO as the config refused, old config kept, still answering" ||
    bad "SIGHUP: FIFO config" "" "$tmp/slog"
  exec 6<>"$tmp/c.conf"; exec 6>&-
  rm -f "$tmp/c.conf"
  # SIGTERM: answers the request in flight, then exits 0 and removes the socket
  n=$(lines "$reread" "$tmp/slog")
  conf "${noskip}Lookup_Time = 2\ndebugLevel = 2\n"; kill -HUP "$spid"
  wait_lines $((n + 1)) "$reread" "$tmp/slog"
  ( req 127.0.0.12 x.test a@slow.policy.test q1 | "${client[@]}" "unix:$sock" --timeout 30 >"$tmp/tout" ) &
  cpid=$!
  # wait until the request is in flight (debugLevel 2 logs each request)
  wait_lines 1 ': request 1 received' "$tmp/slog"
  kill -TERM "$spid"
  wait "$spid"; r=$?
  wait "$cpid"
  { [ $r -eq 0 ] && grep -q '^action=PREPEND Received-SPF: temperror' "$tmp/tout" && [ ! -e "$sock" ]; } &&
    ok "SIGTERM: in-flight request answered, exit 0, socket removed" ||
    bad "SIGTERM" "exit $r" "$tmp/tout"
else
  bad "unix socket: listening" "did not start" "$tmp/serr"
fi

# a free port: another process may take it between the look and the
# bind, so a bind that fails because the port is in use tries another
conf "$noskip"
started=false
for _ in 1 2 3 4 5; do
  iport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if serve --listen "inet:127.0.0.1:$iport" --max-connections 8; then started=true; break; fi
  grep -qi 'in use' "$tmp/serr" || break
done
if $started; then
  ok "inet socket: listening on 127.0.0.1:$iport"
  { req 127.0.0.10 mail.$P a@$P n1; req 127.0.0.12 x.test a@fail.policy.test n2; } >"$tmp/in"
  "${client[@]}" "inet:127.0.0.1:$iport" --conns 40 <"$tmp/in" >"$tmp/cout"; r=$?
  { [ $r -eq 0 ] && [ "$(grep -c '^action=PREPEND Received-SPF: pass' "$tmp/cout")" -eq 40 ] &&
    [ "$(grep -c '^action=550 5.7.23' "$tmp/cout")" -eq 40 ]; } &&
    ok "inet socket: 40 connections over a limit of 8 all served" || bad "inet socket" "exit $r" "$tmp/slog"
  { req 127.0.0.10 mail.$P a@$P n3; printf 'request=smtpd_access_policy\nx='; head -c 20000 /dev/zero | tr '\0' x; } |
    "${client[@]}" "inet:127.0.0.1:$iport" --replies 2 --timeout 20 >"$tmp/cout"
  { [ "$(wc -l <"$tmp/cout")" -eq 2 ] && [ "$(tail -1 "$tmp/cout")" = closed ]; } &&
    ok "inet socket: over-long line closes without a reply" || bad "inet: over-long" "" "$tmp/cout"
  kill -TERM "$spid"; wait "$spid"; r=$?
  [ $r -eq 0 ] && ok "inet socket: SIGTERM exit 0" || bad "inet: SIGTERM" "exit $r"
else
  bad "inet socket: listening" "did not start" "$tmp/serr"
fi

# Issue 22: 200 concurrent requests for a sender whose record has 10 mx
# terms, each MX name 10 hosts, each host 4,000 addresses (a 64 KB
# answer; the zone answers each lookup afresh, as an attacker's server
# that names fresh hosts would).  Each job keeps only whether the client
# matched, so the service's peak RSS (VmHWM) stays under 256 MB; jobs
# used to keep every answer, 2.6 GB.  The deadlines are long: the test
# is about memory, and 20,000 lookups of 4,000 addresses take CPU time a
# loaded machine may spread thin.  Under AddressSanitizer (redzones,
# quarantine, slower) 50 requests, and the bound is four times as high.
# Then the same tree ending in ?all, so that HELO does not decide, as
# both HELO and MAIL FROM (both jobs lived until the answer: 5.47 GB).
awk 'BEGIN {
  printf "$TTL 300\nbigmx.test. IN TXT \"v=spf1";
  for (i = 0; i < 10; i++) printf " mx:m%d.bigmx.test", i;
  printf " -all\"\n";
  printf "bigmxn.test. IN TXT \"v=spf1";
  for (i = 0; i < 10; i++) printf " mx:m%d.bigmx.test", i;
  printf " ?all\"\n";
  for (i = 0; i < 10; i++) for (j = 0; j < 10; j++)
    printf "m%d.bigmx.test. IN MX %d h%d.bigmx.test.\n", i, j, j;
  for (j = 0; j < 10; j++) for (k = 0; k < 4000; k++)
    printf "h%d.bigmx.test. IN A 10.%d.%d.%d\n", j, j, int(k / 256), k % 256;
}' >"$tmp/bigmx.zone"
rss_limit=262144; nreq=200
if nm -D "$bin" 2>/dev/null | grep -q __asan_init; then rss_limit=$((rss_limit * 4)); nreq=50; fi
conf "${noskip}Lookup_Time = 100\nRequest_Time = 600\n"
# burst SOCK REGEX WHAT: $nreq connections at once each send $tmp/in;
# every reply must match REGEX and the server's VmHWM stay under the bound
burst() {
  local r n hwm
  "${client[@]}" "unix:$1" --conns "$nreq" --timeout 600 <"$tmp/in" >"$tmp/cout"; r=$?
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$spid/status")
  n=$(grep -c "$2" "$tmp/cout")
  { [ $r -eq 0 ] && [ "$n" -eq "$nreq" ] && [ "$hwm" -lt "$rss_limit" ]; } &&
    ok "$nreq concurrent requests, $3: peak RSS ${hwm} kB" ||
    bad "$nreq concurrent requests, $3" "exit $r, $n replies /$2/, VmHWM ${hwm} kB (limit $rss_limit)" "$tmp/slog"
}
sock="$tmp/big.sock"
if serve --listen "unix:$sock" --offline --zone "$tmp/bigmx.zone"; then
  req 127.0.0.12 x.test u@bigmx.test big >"$tmp/in"
  burst "$sock" '^action=550 5.7.23' "10 mx x 10 hosts x 4000 addresses, all fail"
  req 127.0.0.12 bigmxn.test u@bigmxn.test bign >"$tmp/in"
  burst "$sock" '^action=PREPEND Received-SPF: neutral .*identity=mailfrom' \
    "HELO and MAIL FROM on the same tree ending ?all, all neutral"
  kill -TERM "$spid"; wait "$spid"
else
  bad "big mx: listening" "did not start" "$tmp/serr"
fi

# Issue 22: the HELO job is gone before the MAIL FROM job starts; only
# its summary stays for the header and the log.  A finished job holds its
# records, outside the memory budget of the evaluations in flight (that
# budget counts running jobs).  hb.test includes ten records of about
# 60 KB (4,000 ip4 terms) under names made from %{l}, answered by a
# wildcard, so no two jobs share them (an attacker's server naming fresh
# records); each job holds about 6 MB.  HELO (postmaster@hb.test) and
# MAIL FROM both end neutral.  With a budget of 1 MiB (16 evaluations in
# flight) 200 requests peaked at 1.3 GB when each kept its HELO job until
# the answer, 96 MB since.
python3 - >"$tmp/hb.zone" <<'EOF'
def txt(text):
    return " ".join('"%s"' % text[k:k + 255] for k in range(0, len(text), 255))
print("$ORIGIN test.\n$TTL 3600")
print("hb IN TXT " + txt("v=spf1 %s ?all" % " ".join(
    "include:%%{l}.%d.w.hb.test" % i for i in range(10))))
terms, n = ["v=spf1"], 6
while n < 60000:
    t = "ip4:10.0.%d.%d" % (len(terms) // 256 % 256, len(terms) % 256)
    terms.append(t)
    n += len(t) + 1
print("*.w.hb IN TXT " + txt(" ".join(terms + ["~all"])))
EOF
sock="$tmp/hb.sock"
if serve --listen "unix:$sock" --offline --zone "$tmp/hb.zone" --memory-budget 1; then
  req 127.0.0.12 hb.test u@hb.test hb >"$tmp/in"
  burst "$sock" '^action=PREPEND Received-SPF: neutral .*identity=mailfrom' \
    "HELO and MAIL FROM, 10 includes of fresh 60 KB records each, all neutral"
  kill -TERM "$spid"; wait "$spid"
else
  bad "hb: listening" "did not start" "$tmp/serr"
fi
# batch --identity both lets the HELO job go the same way (1.3 GB before)
for i in $(seq "$nreq"); do echo "127.0.0.12 u$i@hb.test hb.test"; done >"$tmp/lines"
python3 - "$bin" "$tmp/hb.zone" "$tmp/lines" "$tmp/bout" <<'EOF' >"$tmp/brss"
import resource, subprocess, sys
spf, zone, lines, out = sys.argv[1:5]
with open(lines, "rb") as i, open(out, "wb") as o:
    rc = subprocess.run([spf, "batch", "--identity", "both", "--offline", "--zone", zone,
                         "--memory-budget", "1", "--concurrency", "200"],
                        stdin=i, stdout=o, stderr=subprocess.DEVNULL).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
read -r r hwm <"$tmp/brss"
n=$(grep -c "neutral.*neutral" "$tmp/bout")
{ [ "$r" -eq 0 ] && [ "$n" -eq "$nreq" ] && [ "$hwm" -lt "$rss_limit" ]; } &&
  ok "batch --identity both, $nreq lines on the same tree: peak RSS ${hwm} kB" ||
  bad "batch --identity both: HELO job freed" "exit $r, $n neutral lines, peak RSS ${hwm} kB (limit $rss_limit)" "$tmp/bout"

# ---- issue 14: hostile clients and careless operators ----
probe=(python3 "$here/policyd_probe.py")
rss_mul=1
if nm -D "$bin" 2>/dev/null | grep -q __asan_init; then rss_mul=4; fi
conf ""

# 1. a client that pipelines requests answered at once and never reads
# the replies: reading stops at 64 KiB of unread replies, and the
# connection is closed --send-timeout later.  It used to take all 40 MB
# and grow the service by about 1.35 times that.
sock="$tmp/flood.sock"
if serve --listen "unix:$sock" --send-timeout 2; then
  out=$("${probe[@]}" flood "unix:$sock" 40000000)
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$spid/status")
  sent=${out#sent }; sent=${sent%% *}
  { [[ "$out" == *closed ]] && [ "$sent" -lt 8000000 ] && [ "$hwm" -lt $((32768 * rss_mul)) ] &&
    grep -q 'bytes of replies not read by the client for 2 s; closing' "$tmp/slog"; } &&
    ok "unread replies: reading stops, closed after --send-timeout ($out, peak RSS $hwm kB)" ||
    bad "unread replies bounded" "$out, VmHWM $hwm kB" "$tmp/slog"
  # pipelining: 1000 requests at once are all answered, in order
  : >"$tmp/in"; for i in $(seq 1000); do req 127.0.0.1 x.test "u$i@$P" "pl$i" >>"$tmp/in"; done
  "${client[@]}" "unix:$sock" --timeout 60 <"$tmp/in" >"$tmp/cout"; r=$?
  { [ $r -eq 0 ] && [ "$(grep -c '^action=PREPEND X-Comment' "$tmp/cout")" -eq 1000 ]; } &&
    ok "pipelining: 1000 requests sent at once, 1000 replies" ||
    bad "pipelining" "exit $r, $(grep -c '^action=' "$tmp/cout") replies" "$tmp/slog"
  # the same sent by a client that reads nothing before it has written
  # all (about 650 KB): the replies of what was read up to the output
  # bound reach it, then the connection closes at --send-timeout (it got
  # 0 replies when the pipeline overran the input bound)
  out=$("${probe[@]}" pipeline "unix:$sock" 1000)
  n=$(echo "$out" | awk '{print $2}')
  { [ "${n:-0}" -gt 0 ] && [[ "$out" == *closed ]]; } &&
    ok "pipelining without reading: the replies up to the bound, then closed ($out)" ||
    bad "pipelining without reading" "$out" "$tmp/slog"
  kill -TERM "$spid"; wait "$spid"
else
  bad "flood: listening" "did not start" "$tmp/serr"
fi

# 2. slowloris: 1000 connections that send 59 bytes and stall hold every
# slot; a new client evicts the oldest and is answered (it used to wait
# for the 600 s idle timeout).  And a client that drips a byte every
# 0.2 s is closed at --receive-timeout (the idle timer restarted on
# every read).
sock="$tmp/slow.sock"
if serve --listen "unix:$sock" --max-connections 1000 --receive-timeout 300; then
  mkfifo "$tmp/stall.in"
  "${probe[@]}" stall "unix:$sock" 1000 <"$tmp/stall.in" >"$tmp/stall.out" &
  stpid=$!; pids+=($stpid)
  exec 7>"$tmp/stall.in"
  wait_lines 1 '^ready' "$tmp/stall.out"
  wait_until 20 eval '[ "$(ls "/proc/$spid/fd" | wc -l)" -gt 1000 ]'
  req 127.0.0.1 x.test a@$P slow1 | "${client[@]}" "unix:$sock" --timeout 10 >"$tmp/cout"; r=$?
  { [ $r -eq 0 ] && grep -q '^action=PREPEND X-Comment' "$tmp/cout"; } &&
    ok "1000 stalled connections hold every slot: a new client is still answered" ||
    bad "slowloris" "exit $r" "$tmp/slog"
  grep -q 'all 1000 connection slots taken: [0-9]* idle or partial connections evicted' "$tmp/slog" &&
    ok "eviction logged once, not per connection" || bad "eviction logged" "" "$tmp/slog"
  exec 7>&-; wait "$stpid"
  kill -TERM "$spid"; wait "$spid"
else
  bad "slowloris: listening" "did not start" "$tmp/serr"
fi
if serve --listen "unix:$sock" --receive-timeout 2; then
  out=$("${probe[@]}" drip "unix:$sock")
  { [[ "$out" == closed* ]] && grep -q 'request not received whole within 2 s' "$tmp/slog"; } &&
    ok "a request dripped a byte at a time: closed at --receive-timeout ($out)" ||
    bad "drip" "$out" "$tmp/slog"
  kill -TERM "$spid"; wait "$spid"
else
  bad "drip: listening" "did not start" "$tmp/serr"
fi

# 3. one owner per unix socket: a second instance refuses a live socket;
# an instance whose socket was replaced leaves the new one at exit
sock="$tmp/own.sock"
if serve --listen "unix:$sock"; then
  apid=$spid
  # (bounded: a build that replaces the socket would serve on)
  timeout 20 "$bin" policyd --config "$tmp/c.conf" --log "$tmp/blog" --listen "unix:$sock" \
    </dev/null >/dev/null 2>"$tmp/berr"; r=$?
  req 127.0.0.1 x.test a@$P own1 | "${client[@]}" "unix:$sock" --timeout 10 >"$tmp/cout"; r2=$?
  { [ $r -eq 64 ] && grep -q 'a process is listening on it' "$tmp/berr" && [ $r2 -eq 0 ]; } &&
    ok "a second instance on a live socket refuses to start; the first still serves" ||
    bad "second instance" "exit $r, client $r2" "$tmp/berr"
  rm -f "$sock"
  # its own log: the refused instance above logged "a process is
  # listening on it", which must not pass for this one being up
  "$bin" policyd --config "$tmp/c.conf" --log "$tmp/b2log" --listen "unix:$sock" </dev/null \
    2>"$tmp/berr" &
  bpid=$!; pids+=($bpid)
  wait_lines 1 'listening on [0-9]+ socket' "$tmp/b2log"
  kill -TERM "$apid"; wait "$apid"
  req 127.0.0.1 x.test a@$P own2 | "${client[@]}" "unix:$sock" --timeout 10 >"$tmp/cout"; r=$?
  { [ -S "$sock" ] && [ $r -eq 0 ] && grep -q 'was replaced by another process; left in place' "$tmp/slog"; } &&
    ok "at exit, a socket replaced by another instance is left to it" ||
    bad "replaced socket removed" "client exit $r" "$tmp/slog"
  kill -TERM "$bpid"; wait "$bpid"
  [ ! -e "$sock" ] && ok "at exit, our own socket is removed" || bad "own socket removed" ""
else
  bad "ownership: listening" "did not start" "$tmp/serr"
fi

# 4. out of descriptors: --max-connections 2000 under a limit of 64 is
# cut to fit (logged), so 100 stalled clients are evicted like any, no
# EMFILE loop, no flood of libevent messages on stderr
sock="$tmp/fd.sock"
serve_pre=(prlimit --nofile=64:64)
if serve --listen "unix:$sock" --max-connections 2000; then
  serve_pre=()
  mkfifo "$tmp/stall2.in"
  "${probe[@]}" stall "unix:$sock" 100 <"$tmp/stall2.in" >"$tmp/stall2.out" &
  stpid=$!; pids+=($stpid)
  exec 7>"$tmp/stall2.in"
  wait_lines 1 '^ready' "$tmp/stall2.out"
  req 127.0.0.1 x.test a@$P fd1 | "${client[@]}" "unix:$sock" --timeout 10 >"$tmp/cout"; r=$?
  exec 7>&-; wait "$stpid"
  logsz=$(cat "$tmp/slog" "$tmp/serr" | wc -c)
  { [ $r -eq 0 ] && grep -q 'RLIMIT_NOFILE) is 64, hard 64: serving at most 32 connections' "$tmp/slog" &&
    [ "$logsz" -lt 20000 ]; } &&
    ok "descriptor limit: connections cut to fit, a client answered past 100 stalled ($logsz bytes logged)" ||
    bad "descriptor limit" "client exit $r, $logsz bytes logged" "$tmp/slog"
  kill -TERM "$spid"; wait "$spid"
else
  serve_pre=()
  bad "fd limit: listening" "did not start" "$tmp/serr"
fi

# 6. a log that takes no lines (a FIFO whose reader stalls) never stalls
# the answers: lines wait in a queue of at most 1 MiB, past it they are
# dropped and counted, and the count is logged once the log takes lines
# again.  The log write used to block the one loop after 64 KiB.
mkfifo "$tmp/log.fifo"
exec 5<>"$tmp/log.fifo"
sock="$tmp/logblock.sock"
"$bin" policyd --config "$tmp/c.conf" --log "$tmp/log.fifo" --listen "unix:$sock" </dev/null \
  2>"$tmp/serr" &
lpid=$!; pids+=($lpid)
out=$("${probe[@]}" drain 5 'listening on [0-9]+ socket' 20)
if [[ "$out" == *listening* ]]; then
  long=$(head -c 250 /dev/zero | tr '\0' h)
  : >"$tmp/in"; for i in $(seq 20); do req 127.0.0.1 "$long.test" "u$i@$P" "lb$i" >>"$tmp/in"; done
  # 100 connections x 20 requests, about 1.6 MB of log lines, none read
  "${client[@]}" "unix:$sock" --conns 100 --timeout 60 <"$tmp/in" >"$tmp/cout"; r=$?
  n=$(grep -c '^action=PREPEND X-Comment' "$tmp/cout")
  { [ $r -eq 0 ] && [ "$n" -eq 2000 ]; } &&
    ok "a log FIFO nobody reads: 2000 requests all answered" ||
    bad "log FIFO nobody reads" "exit $r, $n replies" "$tmp/serr"
  out=$("${probe[@]}" drain 5 'warning: [0-9]+ log lines dropped' 30)
  [[ "$out" == *"log lines dropped"* ]] &&
    ok "the lines the log did not take are counted: ${out#*warning: }" ||
    bad "dropped log lines counted" "$out"
  kill -TERM "$lpid"; wait "$lpid"
else
  bad "log FIFO: listening" "$out" "$tmp/serr"
fi
exec 5>&-

# 5. --user: an existing log file keeps its owner; a socket the user
# cannot remove at exit is said so in the log
if id nobody >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  chmod 755 "$tmp"; : >"$tmp/mail.log"; chmod 644 "$tmp/mail.log"
  "$bin" policyd --config "$tmp/c.conf" --user nobody --log "$tmp/mail.log" \
    --listen "unix:$tmp/user.sock" </dev/null 2>"$tmp/serr" &
  upid=$!; pids+=($upid)
  wait_lines 1 'listening on [0-9]+ socket' "$tmp/mail.log"
  [ "$(stat -c %U "$tmp/mail.log")" = root ] && ok "--user: an existing log file keeps its owner" ||
    bad "--user: log file owner" "$(stat -c %U "$tmp/mail.log")"
  kill -TERM "$upid"; wait "$upid"
  grep -q "cannot remove the socket $tmp/user.sock: Permission denied" "$tmp/mail.log" &&
    ok "--user: a socket left behind at exit is logged" || bad "--user: socket left" "" "$tmp/mail.log"
  rm -f "$tmp/user.sock"
fi

# ---- socket activation (issue 18): sockets passed as systemd passes them ----
activate=(python3 "$here/socket_activate.py")
conf "$noskip"
asock="$tmp/activated.sock"
rm -f "$tmp/alog" "$tmp/aport"
"${activate[@]}" --unix "$asock" --inet-port-file "$tmp/aport" --names policy:policy-tcp -- \
  "$bin" policyd --config "$tmp/c.conf" "${ns[@]}" --log "$tmp/alog" </dev/null 2>"$tmp/aerr" &
apid=$!; pids+=($apid)
wait_until 20 eval 'at_least 1 "listening on [0-9]+ socket" "$tmp/alog" || ! kill -0 "$apid" 2>/dev/null'
if at_least 1 'listening on 2 socket\(s\)' "$tmp/alog"; then
  ok "socket activation: two passed sockets, no --listen"
  grep -q 'socket policy-tcp (descriptor 4) passed by the service manager' "$tmp/alog" &&
    ok "socket activation: LISTEN_FDNAMES names the sockets in the log" ||
    bad "socket activation: names" "" "$tmp/alog"
  req 127.0.0.10 mail.$P a@$P act1 | "${client[@]}" "unix:$asock" --timeout 20 >"$tmp/cout"
  grep -q '^action=PREPEND Received-SPF: pass' "$tmp/cout" &&
    ok "socket activation: answered on the passed unix socket" || bad "socket activation: unix" "" "$tmp/alog"
  req 127.0.0.12 x.test a@fail.policy.test act2 |
    "${client[@]}" "inet:127.0.0.1:$(cat "$tmp/aport")" --timeout 20 >"$tmp/cout"
  grep -q '^action=550 5.7.23' "$tmp/cout" &&
    ok "socket activation: answered on the passed inet socket" || bad "socket activation: inet" "" "$tmp/alog"
  kill -TERM "$apid"; wait "$apid"; r=$?
  # the socket file is the socket unit's: kept for the next start
  { [ $r -eq 0 ] && [ -S "$asock" ]; } &&
    ok "socket activation: SIGTERM exit 0, the socket file left to its unit" ||
    bad "socket activation: SIGTERM" "exit $r, socket $(ls -l "$asock" 2>&1)" "$tmp/alog"
else
  bad "socket activation: listening" "did not start" "$tmp/aerr"; cat "$tmp/alog" 2>/dev/null
fi
# a connection in place of a listening socket (a unit with Accept=yes)
timeout 20 "${activate[@]}" --connected -- "$bin" policyd --config "$tmp/c.conf" "${ns[@]}" \
  --log stderr </dev/null >"$tmp/aout" 2>"$tmp/aerr"; r=$?
{ [ $r -eq 64 ] && grep -q 'descriptor 3 is not a listening socket (the socket unit needs Accept=no)' "$tmp/aerr"; } &&
  ok "socket activation: a connected socket refused (Accept=yes), exit 64" ||
  bad "socket activation: connected socket" "exit $r" "$tmp/aerr"
# LISTEN_PID of another process: inherited, not ours; --listen alone serves
rm -f "$tmp/alog"
LISTEN_PID=1 LISTEN_FDS=1 "$bin" policyd --config "$tmp/c.conf" "${ns[@]}" --log "$tmp/alog" \
  --listen "unix:$tmp/own.sock" </dev/null 2>"$tmp/aerr" &
apid=$!; pids+=($apid)
wait_until 20 eval 'at_least 1 "listening on [0-9]+ socket" "$tmp/alog" || ! kill -0 "$apid" 2>/dev/null'
{ at_least 1 'listening on 1 socket\(s\)' "$tmp/alog" && ! grep -q 'passed by the service manager' "$tmp/alog"; } &&
  ok "socket activation: LISTEN_PID of another process ignored" ||
  bad "socket activation: another LISTEN_PID" "" "$tmp/alog"
kill -TERM "$apid" 2>/dev/null; wait "$apid"

echo "policyd: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
