#!/usr/bin/env bash
# cli.sh - command-line tests of spfcheck: results, exit statuses, output
# and every class of bad input, on testdata/demo.zone (no network).
# usage: cli.sh SPFCHECK DEMO_ZONE
set -u
bin=$1
zone=$2
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME STATUS REGEX [--stderr] -- ARGS...: run spfcheck ARGS, check the
# exit status and that stdout (or stderr) matches the extended regex.
expect() {
  local name=$1 want=$2 re=$3 stream=out
  shift 3
  if [ "$1" = "--stderr" ]; then stream=err; shift; fi
  [ "$1" = "--" ] && shift
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err"
    fail=$((fail + 1)); return
  fi
  if ! grep -Eq -- "$re" "$tmp/$stream"; then
    echo "FAIL $name: std$stream does not match /$re/"; sed 's/^/  | /' "$tmp/$stream"
    fail=$((fail + 1)); return
  fi
  if [ "$stream" = err ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL $name: the error is not one line"; sed 's/^/  | /' "$tmp/err"
    fail=$((fail + 1)); return
  fi
  echo "ok   $name"
  pass=$((pass + 1))
}

z=(--offline --zone "$zone")
expect pass-mx 0 '^pass  domain=example.com  mechanism="mx"' -- check "${z[@]}" 192.0.2.25 alice@example.com
expect pass-ip6-mx 0 '^pass .*mechanism="mx"' -- check "${z[@]}" 2001:db8::25 alice@example.com
expect pass-include-ip6 0 '^pass .*mechanism="include:_spf.esp.example.net"' -- check "${z[@]}" 2001:db8:e5::7 alice@example.com
expect pass-ip4-cidr 0 'mechanism="ip4:198.51.100.16/28"' -- check "${z[@]}" 198.51.100.31 bob@example.com
expect fail-exp 1 '^fail .*mechanism="-all".*explanation="192.0.2.99 is not a mail server of example.com. See https://example.com/mail-policy"' -- check "${z[@]}" 192.0.2.99 alice@example.com
expect fail-mapped-v4 1 '^fail ' -- check "${z[@]}" ::ffff:192.0.2.99 alice@example.com
expect pass-mapped-v4 0 '^pass ' -- check "${z[@]}" ::ffff:192.0.2.25 alice@example.com
expect redirect 0 '^pass  domain=example.com  mechanism="mx"' -- check "${z[@]}" 192.0.2.26 orders@shop.example.com
expect softfail 2 '^softfail .*mechanism="~all"' -- check "${z[@]}" --record soft.example.com='v=spf1 ~all' 192.0.2.1 a@soft.example.com
expect neutral 3 '^neutral .*mechanism="default"' -- check "${z[@]}" --record n.example.com='v=spf1 ip4:192.0.2.200' 192.0.2.1 a@n.example.com
expect none 4 '^none .*problem="nosuch.example.com has no SPF record"' -- check "${z[@]}" 192.0.2.1 a@nosuch.example.com
expect permerror-syntax 5 '^permerror .*problem="syntax error in the record of broken.example.org' -- check "${z[@]}" 192.0.2.1 a@broken.example.org
expect permerror-limit 5 'too many DNS-querying terms' -- check "${z[@]}" 192.0.2.99 a@greedy.example.org
expect record-overrides-zone 0 '^pass .*mechanism="\+all"' -- check "${z[@]}" --record example.com='v=spf1 +all' 192.0.2.99 alice@example.com
expect default-explanation 1 'explanation="go away"' -- check "${z[@]}" --record x.example.com='v=spf1 -all' --default-explanation 'go away' 192.0.2.1 a@x.example.com
expect builtin-explanation 1 'explanation="x.example.com does not designate 192.0.2.1 as permitted sender"' -- check "${z[@]}" --record x.example.com='v=spf1 -all' 192.0.2.1 a@x.example.com
expect helo-identity 0 '^pass  domain=mail.example.com  mechanism="a"' -- check "${z[@]}" --identity helo --helo mail.example.com 192.0.2.25
expect null-sender 0 '^pass  domain=mail.example.com' -- check "${z[@]}" --helo mail.example.com 192.0.2.25 ''
expect angle-brackets 0 '^pass ' -- check "${z[@]}" 192.0.2.25 '<alice@example.com>'
expect bare-domain 0 '^pass  domain=example.com' -- check "${z[@]}" 192.0.2.25 example.com
expect json 1 '"result": "fail"' -- check "${z[@]}" --json 192.0.2.99 alice@example.com
expect json-fields 1 '"void_lookups": 0' -- check "${z[@]}" --json 192.0.2.99 alice@example.com
expect malformed-domain 4 "^none .*not a multi-label domain" -- check "${z[@]}" 192.0.2.1 a@localhost

# bad input: one line on stderr, exit 64
expect bad-ip 64 "'300.1.1.1' is not an IPv4 or IPv6 address" --stderr -- check "${z[@]}" 300.1.1.1 a@example.com
expect missing-args 64 'check needs IP and SENDER' --stderr -- check "${z[@]}" 192.0.2.1
expect bad-zone-file 64 'cannot load zone file: .*no-such.zone' --stderr -- check --offline --zone "$tmp/no-such.zone" 192.0.2.1 a@example.com
printf 'example.com. IN TXT "v=spf1 -all"\nexample.com. IN A 192.0.2.300\n' >"$tmp/bad.zone"
expect bad-zone-syntax 64 'cannot load zone file: .*bad.zone:2: ' --stderr -- check --offline --zone "$tmp/bad.zone" 192.0.2.1 a@example.com
expect bad-record-opt 64 '--record needs DOMAIN=TEXT' --stderr -- check --offline --record nonsense 192.0.2.1 a@example.com
expect sender-no-domain 64 "has no domain after '@'" --stderr -- check "${z[@]}" 192.0.2.1 user@
expect sender-space 64 'space or control character' --stderr -- check "${z[@]}" 192.0.2.1 'a b@example.com'
expect null-sender-no-helo 64 'give --helo' --stderr -- check "${z[@]}" 192.0.2.1 ''
expect bad-identity 64 '--identity must be mfrom or helo' --stderr -- check "${z[@]}" --identity pra 192.0.2.1 a@example.com
expect unknown-command 64 "unknown command 'frobnicate'" --stderr -- frobnicate
expect unknown-option 64 "unknown option '--frob'" --stderr -- check --frob 192.0.2.1 a@example.com
expect missing-value 64 "option '--helo' needs a value" --stderr -- check 192.0.2.1 a@example.com --helo
expect help 0 'usage: spfcheck check' -- check --help
expect version 0 '^spfcheck [0-9]' -- --version

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
