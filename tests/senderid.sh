#!/usr/bin/env bash
# senderid.sh - command-line tests of `spfcheck senderid` (issue 5): the
# conflict report of a domain and the --message form, offline, on
# testdata/senderid.zone and testdata/forwarded.eml; every class of bad
# input gets one line on stderr and exit 64.
# usage: senderid.sh SPFCHECK TESTDATA_DIR
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
data=$2
. "$(dirname "$0")/expect.sh"
# refute NAME REGEX -- ARGS...: stdout must not match
refute() {
  local name=$1 re=$2
  shift 2
  [ "$1" = "--" ] && shift
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  if grep -Eq -- "$re" "$tmp/out"; then
    echo "FAIL $name: stdout matches /$re/"; sed 's/^/  | /' "$tmp/out"
    fail=$((fail + 1)); return
  fi
  echo "ok   $name"
  pass=$((pass + 1))
}

z=(--offline --zone "$data/senderid.zone")
eml=$data/forwarded.eml

# ---- DOMAIN: the demo domain publishes v=spf1 ... -all without an opt-out ----
expect sid01 1 '^SID-01 W author.example: TXT "v=spf1 .* ends in "-all"' -- senderid "${z[@]}" author.example
expect sid01-fix 1 'fix: publish a second TXT record "spf2.0/pra \?all"' -- senderid "${z[@]}" author.example
expect sid01-records 1 '^  \[0\] TXT "v=spf1 ip4:192.0.2.0/28 ip6:2001:db8:a::/48 -all"' -- senderid "${z[@]}" author.example
expect sid01-policy-pra 1 'pra-strict .*|no record applies' -- senderid "${z[@]}" author.example
expect sid01-counts 1 '^0 errors, 1 warning, 0 notes$' -- senderid "${z[@]}" author.example
expect optout-clean 0 '^  none$' -- senderid "${z[@]}" optout.example
refute optout-no-sid01 'SID-01' -- senderid "${z[@]}" optout.example
expect optout-policy 0 '-> TXT "spf2.0/pra \?all"' -- senderid "${z[@]}" optout.example
expect json-domain 1 '"id": "SID-01"' -- senderid "${z[@]}" --json author.example
expect json-severity 1 '"severity": "W"' -- senderid "${z[@]}" --json author.example
expect json-policies 1 '"key": "pra-strict"' -- senderid "${z[@]}" --json author.example
expect json-counts 0 '"warnings": 0' -- senderid "${z[@]}" --json optout.example
expect no-records 0 'no SPF or Sender ID record' -- senderid "${z[@]}" nosuch.example
printf '$TTL 60\nr.example. IN TXT "spf2.0/pra -all"\nr.example. IN TXT "spf2.0/mfrom,pra -all"\nr.example. IN TXT "v=spf1 -all"\n' >"$tmp/r.zone"
expect sid03 1 '^SID-03 E .*2 records cover scope "pra"' -- senderid "${z[@]}" --zone "$tmp/r.zone" r.example
expect sid04 1 '^SID-04 E .*\(a\)' -- senderid "${z[@]}" --record 'v.example=v=spf2.0/pra ?all' v.example
printf '$TTL 60\nd.example. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"\nd.example. IN TXT "spf2.0/mfrom ip4:198.51.100.0/24 -all"\n' >"$tmp/d.zone"
expect sid05-probes 1 '192.0.2.0 +RFC 7208: pass +Sender ID: fail' -- senderid "${z[@]}" --zone "$tmp/d.zone" d.example
expect sid02 1 '^SID-02 W ' -- senderid "${z[@]}" --zone "$tmp/d.zone" d.example
printf '$TTL 60\ns.example. IN SPF "v=spf1 -all"\n' >"$tmp/s.zone"
expect sid06 1 '^SID-06 E ' -- senderid "${z[@]}" --zone "$tmp/s.zone" s.example
expect sid06-spf-record 1 '^  \[0\] SPF "v=spf1 -all"' -- senderid "${z[@]}" --zone "$tmp/s.zone" s.example

# ---- --message: the forwarded message, SPF pass vs Sender ID fail ----
expect msg-divergence 1 '^DIVERGENCE: SPF passes but Sender ID fails' -- senderid "${z[@]}" --message "$eml" --ip 198.51.100.25
expect msg-pra 1 '^PRA +alice@author.example +\(From field on line 10' -- senderid "${z[@]}" --message "$eml" --ip 198.51.100.25
expect msg-envelope 1 '^envelope +friends-bounces@lists.example.net +\(Return-Path\)' -- senderid "${z[@]}" --message "$eml" --ip 198.51.100.25
expect msg-side-by-side 1 '^  result +pass +fail$' -- senderid "${z[@]}" --message "$eml" --ip 198.51.100.25
expect msg-json 1 '"divergent": true' -- senderid "${z[@]}" --json --message "$eml" --ip 198.51.100.25
expect msg-json-pra 1 '"address": "alice@author.example"' -- senderid "${z[@]}" --json --message "$eml" --ip 198.51.100.25
expect msg-json-senderid 1 '"identity": "pra"' -- senderid "${z[@]}" --json --message "$eml" --ip 198.51.100.25
expect msg-agree 0 '^agree: ' -- senderid "${z[@]}" --message "$eml" --ip 192.0.2.5 --sender alice@author.example
expect msg-sender-opt 1 '\(--sender\)' -- senderid "${z[@]}" --message "$eml" --ip 198.51.100.25 --sender x@lists.example.net
expect msg-strict 4 'Sender ID \(RFC 4406, pra, spf2.0 only\)' -- senderid "${z[@]}" --strict --message "$eml" --ip 198.51.100.25
printf '$TTL 60\nauthor.example. IN TXT "spf2.0/pra ?all"\n' >"$tmp/optout.zone"
expect msg-optout 3 '^  result +pass +neutral$' -- senderid "${z[@]}" --zone "$tmp/optout.zone" --message "$eml" --ip 198.51.100.25
printf 'Return-Path: <a@lists.example.net>\nFrom: a@x.example, b@y.example\n\nhi\n' >"$tmp/nopra.eml"
expect msg-no-pra 1 '^PRA +none: From field on line 2 lists 2 mailboxes' -- senderid "${z[@]}" --message "$tmp/nopra.eml" --ip 198.51.100.25
expect msg-no-pra-flag 1 'DIVERGENCE: SPF passes but the message has no PRA' -- senderid "${z[@]}" --message "$tmp/nopra.eml" --ip 198.51.100.25
expect msg-stdin 1 'DIVERGENCE' -- senderid "${z[@]}" --message - --ip 198.51.100.25 <"$eml"

# a v=spf1 record that does not parse: the report, never a crash (the
# rules that compare its terms used to read the missing parse)
printf '$TTL 60\nbroken.example. IN TXT "v=spf1 ip4:192.0.2.300 exists:%%{l}.x.example -all"\n' >"$tmp/broken.zone"
expect broken-v1 0 '^0 errors, 0 warnings, 0 notes$' -- senderid "${z[@]}" --zone "$tmp/broken.zone" broken.example
expect broken-v1-json 0 '"records"' -- senderid "${z[@]}" --zone "$tmp/broken.zone" --json broken.example

# ---- bad input: one line on stderr, exit 64 ----
: >"$tmp/empty.eml"
expect bad-empty 64 'not a mail message: the message is empty' --stderr -- senderid "${z[@]}" --message "$tmp/empty.eml" --ip 192.0.2.1
printf '\nbody only\n' >"$tmp/nohdr.eml"
expect bad-no-headers 64 'not a mail message: the message starts with an empty line' --stderr -- senderid "${z[@]}" --message "$tmp/nohdr.eml" --ip 192.0.2.1
head -c 4096 /dev/urandom >"$tmp/junk.bin" 2>/dev/null || printf '\x7fELF\x02\x01\x00\x00' >"$tmp/junk.bin"
printf '\x7fELF\x02\x01\x01\x00\x00\x00' >"$tmp/elf.bin"
expect bad-binary 64 'not a mail message: line 1: (control byte|NUL byte)' --stderr -- senderid "${z[@]}" --message "$tmp/elf.bin" --ip 192.0.2.1
expect bad-random 64 'not a mail message' --stderr -- senderid "${z[@]}" --message "$tmp/junk.bin" --ip 192.0.2.1
printf 'This is not a header\nFrom: a@x.example\n' >"$tmp/prose.eml"
expect bad-unparsable 64 'not a mail message: line 1 is not a header field' --stderr -- senderid "${z[@]}" --message "$tmp/prose.eml" --ip 192.0.2.1
expect bad-missing-file 64 'cannot read .*nosuch.eml' --stderr -- senderid "${z[@]}" --message "$tmp/nosuch.eml" --ip 192.0.2.1
expect bad-no-ip 64 '--message needs --ip' --stderr -- senderid "${z[@]}" --message "$eml"
expect bad-ip 64 "'1.2.3' is not an IPv4 or IPv6 address" --stderr -- senderid "${z[@]}" --message "$eml" --ip 1.2.3
printf 'From: a@x.example\n\nhi\n' >"$tmp/norp.eml"
expect bad-no-envelope 64 'no envelope sender: the message has no Return-Path; give --sender' --stderr -- senderid "${z[@]}" --message "$tmp/norp.eml" --ip 192.0.2.1
printf 'Return-Path: <>\nFrom: a@x.example\n' >"$tmp/null.eml"
expect bad-null-no-helo 64 'is null .*give --helo' --stderr -- senderid "${z[@]}" --message "$tmp/null.eml" --ip 192.0.2.1
expect null-with-helo 4 'envelope +<> +\(Return-Path\)' -- senderid "${z[@]}" --message "$tmp/null.eml" --ip 192.0.2.1 --helo lists.example.net
expect bad-no-domain 64 'senderid needs DOMAIN or --message FILE' --stderr -- senderid "${z[@]}"
expect bad-two-domains 64 "unexpected argument 'b.example': spfcheck senderid takes DOMAIN or --message FILE" --stderr -- senderid "${z[@]}" a.example b.example
expect bad-ip-without-message 64 '--ip, --sender and --helo go with --message' --stderr -- senderid "${z[@]}" --ip 192.0.2.1 author.example
expect bad-domain 64 "is not a domain name" --stderr -- senderid "${z[@]}" 'bad domain'
expect bad-option 64 "unknown option '--frob'" --stderr -- senderid --frob author.example
expect help 0 'usage: spfcheck senderid' -- senderid --help
expect main-help 0 'senderid DOMAIN' -- --help

echo "senderid-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
