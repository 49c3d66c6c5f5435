#!/usr/bin/env bash
# cli.sh - command-line tests of spfcheck: results, exit statuses, output
# and every class of bad input, on testdata/demo.zone (no network).
# usage: cli.sh SPFCHECK DEMO_ZONE
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
zone=$2
. "$(dirname "$0")/expect.sh"

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
expect bad-ip 64 "client address '300.1.1.1': not an IPv4 or IPv6 address" --stderr -- check "${z[@]}" 300.1.1.1 a@example.com
expect missing-args 64 'check needs IP and SENDER' --stderr -- check "${z[@]}" 192.0.2.1
expect bad-zone-file 64 'cannot load zone file: .*no-such.zone' --stderr -- check --offline --zone "$tmp/no-such.zone" 192.0.2.1 a@example.com
printf 'example.com. IN TXT "v=spf1 -all"\nexample.com. IN A 192.0.2.300\n' >"$tmp/bad.zone"
expect bad-zone-syntax 64 'cannot load zone file: .*bad.zone:2: ' --stderr -- check --offline --zone "$tmp/bad.zone" 192.0.2.1 a@example.com
expect record-without-domain 64 'got a record without its domain' --stderr -- check --offline --record 'v=spf1 -all' 192.0.2.1 a@example.com
# a zone from a pipe (--zone <(...)) cannot be rewound: it is read whole
expect zone-from-pipe 1 '^fail .*mechanism="-all"' -- check --offline --zone <(cat "$zone") 192.0.2.99 alice@example.com
expect zone-from-pipe-syntax 64 'cannot load zone file: .*:2: ' --stderr -- check --offline --zone <(cat "$tmp/bad.zone") 192.0.2.1 a@example.com
expect bad-record-opt 64 '--record needs DOMAIN=TEXT' --stderr -- check --offline --record nonsense 192.0.2.1 a@example.com
# ---- identities as SMTP delivers them (issue 12): RFC 7208 §4.3, only a
# malformed domain gives none; any local-part is evaluated (%{l}, §7.3)
expect sender-no-domain 4 "^none .*problem=\"'': the domain is empty\"" -- check "${z[@]}" 192.0.2.1 user@
expect sender-space 1 '^fail .*mechanism="-all"' -- check "${z[@]}" 192.0.2.99 'a b@example.com'
expect sender-quoted 1 'explanation="\"john smith\" says no"' -- check "${z[@]}" --record q.example.com='v=spf1 -all exp=e.q.example.com' --record e.q.example.com='%{l} says no' 192.0.2.1 '"john smith"@q.example.com'
expect sender-dorky-sentinel 1 'explanation="Macro Error in implementation"' -- check "${z[@]}" --record e8.example.com='v=spf1 -all exp=x.e8.example.com' --record x.e8.example.com='%{l} in implementation' 1.2.3.4 'Macro Error@e8.example.com'
# the last "@" splits (RFC 5321: no "@" in a Domain; Postfix does the same)
expect sender-two-ats 1 'explanation="l=a@b o=q.example.com"' -- check "${z[@]}" --record q.example.com='v=spf1 -all exp=e.q.example.com' --record e.q.example.com='l=%{l} o=%{o}' 192.0.2.1 'a@b@q.example.com'
expect sender-utf8-local 1 $'explanation="l=j\xc3\xbcrgen"' -- check "${z[@]}" --record q.example.com='v=spf1 -all exp=e.q.example.com' --record e.q.example.com='l=%{l}' 192.0.2.1 $'j\xc3\xbcrgen@q.example.com'
expect sender-cr 64 'contains CR or LF, which no SMTP command line can carry \(RFC 5321' --stderr -- check "${z[@]}" 192.0.2.1 $'a\rb@example.com'
expect sender-too-long 64 'sender is 3000 bytes long' --stderr -- check "${z[@]}" 192.0.2.1 "$(printf 'a%.0s' $(seq 1 2988))@example.com"
expect helo-invalid-macro 1 'explanation="h=JUMPIN. JUPITER"' -- check "${z[@]}" --record e9.example.com='v=spf1 -all exp=e.e9.example.com' --record e.e9.example.com='h=%{h}' --helo "JUMPIN' JUPITER" 192.0.2.1 test@e9.example.com
expect helo-invalid-identity 4 "^none .*the domain contains a character not allowed" -- check "${z[@]}" --identity helo --helo "JUMPIN' JUPITER" 192.0.2.1
expect null-sender-odd-helo 4 "^none  domain=JUMPIN' JUPITER" -- check "${z[@]}" --helo "JUMPIN' JUPITER" 192.0.2.1 ''
expect client-zone-index 64 "client address 'fe80::1%eth0': an IPv6 zone index" --stderr -- check "${z[@]}" fe80::1%eth0 a@example.com
expect extra-argument 64 "unexpected argument 'extra': spfcheck check takes IP and SENDER" --stderr -- check "${z[@]}" 192.0.2.1 a@example.com extra
expect explain-extra-argument 64 "unexpected argument 'more'" --stderr -- explain "${z[@]}" 192.0.2.1 a@example.com more
# part 5: the default explanation is readable for IPv6 (%{c}, RFC 7208
# §7.3), and %{r} is the host name the header fields name when
# --receiver is not given
expect default-exp-ip6 1 'explanation="x.example.com does not designate 2001:db8::60 as permitted sender"' -- check "${z[@]}" --record x.example.com='v=spf1 -all' 2001:db8::60 a@x.example.com
expect receiver-default 1 "explanation=\"r=$(hostname)\"" -- check "${z[@]}" --record x.example.com='v=spf1 -all exp=e.x.example.com' --record e.x.example.com='r=%{r}' 192.0.2.1 a@x.example.com
expect null-sender-no-helo 64 'give --helo' --stderr -- check "${z[@]}" 192.0.2.1 ''
expect bad-identity 64 '--identity must be mfrom, helo or both' --stderr -- check "${z[@]}" --identity pra 192.0.2.1 a@example.com
expect unknown-command 64 "unknown command 'frobnicate'" --stderr -- frobnicate
expect unknown-option 64 "unknown option '--frob'" --stderr -- check --frob 192.0.2.1 a@example.com
expect missing-value 64 "option '--helo' needs a value" --stderr -- check 192.0.2.1 a@example.com --helo
expect help 0 'usage: spfcheck check' -- check --help
expect version 0 '^spfcheck [0-9]' -- --version
# one version, meson.build's; the libraries' as they run (issue 18)
v=${SPFCHECK_VERSION:-}
vre=${v//./\\.}
expect version-meson 0 "^spfcheck $vre\$" -- --version
expect version-libs 0 '^c-ares [0-9][0-9.]*, ldns [0-9][0-9.]*, libidn2 [0-9][0-9.]*$' -- --version
if [ -n "$v" ] && grep -q "^\.TH SPFCHECK 1 .* \"spfcheck $v\"" "${SPFCHECK_MAN:-/nonexistent}"; then
  ok "version-man-page"
else
  bad "version-man-page" "doc/spfcheck.1's .TH does not name spfcheck ${v:-(SPFCHECK_VERSION unset)}"
fi

# ---- explain, both identities, headers, batch (issue 9) ----

# explain: the exit status is the MAIL FROM result, for every result
expect explain-pass 0 '◀ decides' -- explain "${z[@]}" 192.0.2.25 alice@example.com
expect explain-fail 1 '^fail: 192.0.2.99 matched -all in the record of example.com \(no earlier term matched\)$' -- explain "${z[@]}" 192.0.2.99 alice@example.com
expect explain-softfail 2 '^softfail: ' -- explain "${z[@]}" --record soft.example.com='v=spf1 ~all' 192.0.2.1 a@soft.example.com
expect explain-neutral 3 '^neutral: no term in the record of n.example.com matched' -- explain "${z[@]}" --record n.example.com='v=spf1 ip4:192.0.2.200' 192.0.2.1 a@n.example.com
expect explain-none 4 '^none: nosuch.example.com has no SPF record' -- explain "${z[@]}" 192.0.2.1 a@nosuch.example.com
expect explain-permerror 5 '^permerror: too many DNS-querying terms' -- explain "${z[@]}" 192.0.2.99 a@greedy.example.org
# explain --debug: the states and steps by their names in the code, one
# line each on stderr; stdout is the tree as without it
debug_has() {
  local name=$1 want=$2 re=$3
  shift 3
  "$bin" "$@" --debug >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then bad "$name" "exit $got, want $want"; return; fi
  if ! grep -Eq -- "$re" "$tmp/err"; then
    bad "$name" "stderr does not match /$re/"; sed 's/^/  | /' "$tmp/err"; return
  fi
  if ! "$bin" "$@" | cmp -s - "$tmp/out"; then bad "$name" "stdout differs with --debug"; return; fi
  ok "$name"
}
debug_has explain-debug-redirect 0 '^spf:   example.com term terms\[0\] mx mx-hosts \(lookups 2, void 0\)$' explain "${z[@]}" 192.0.2.26 orders@shop.example.com
debug_has explain-debug-back 0 '^spf: shop.example.com redirected ' explain "${z[@]}" 192.0.2.26 orders@shop.example.com
debug_has explain-debug-explanation 1 '^spf: explanation txt ' explain "${z[@]}" 192.0.2.99 alice@example.com
expect explain-ttl 1 'record \(TTL 3600\): "v=spf1 mx ' -- explain "${z[@]}" 192.0.2.99 alice@example.com
expect explain-counts 1 '\[lookups 2/10, void 0/2\]' -- explain "${z[@]}" 192.0.2.99 alice@example.com
expect explain-nested 1 '^│  └─ _spf.esp.example.net  record' -- explain "${z[@]}" 192.0.2.99 alice@example.com
expect explain-dns 1 'MX example.com → 10 mail.example.com, 20 backup.example.com' -- explain "${z[@]}" 192.0.2.99 alice@example.com
expect explain-both 0 '^HELO identity: postmaster@mail.example.com' -- explain "${z[@]}" --identity both --helo mail.example.com 203.0.113.5 alice@example.com
expect explain-mfrom-only 0 '^MAIL FROM identity' -- explain "${z[@]}" --identity mfrom --helo mail.example.com 203.0.113.5 alice@example.com
expect explain-json 1 '"kind": "check"' -- explain "${z[@]}" --json 192.0.2.99 alice@example.com
expect explain-json-verdict 1 '"verdict": "fail: 192.0.2.99 matched -all' -- explain "${z[@]}" --json 192.0.2.99 alice@example.com
expect explain-header 1 '^Authentication-Results: mx.example.org; spf=fail' -- explain "${z[@]}" --header auth-results --receiver mx.example.org 192.0.2.99 alice@example.com
expect explain-color-always 1 $'\033\\[' -- explain "${z[@]}" --color=always 192.0.2.99 alice@example.com
expect explain-color-never 1 '^fail: ' -- explain "${z[@]}" --color never 192.0.2.99 alice@example.com
if NO_COLOR=1 "$bin" explain "${z[@]}" --color=auto 192.0.2.99 alice@example.com | grep -q $'\033'; then
  bad no-color 'escape sequences with NO_COLOR'
else ok no-color; fi
expect explain-help 0 'usage: spfcheck explain' -- explain --help
expect explain-bad-ip 64 "client address '1.2.3': not an IPv4 or IPv6 address" --stderr -- explain "${z[@]}" 1.2.3 a@example.com
expect explain-missing-args 64 'explain needs IP and SENDER' --stderr -- explain "${z[@]}" 192.0.2.1
expect explain-bad-color 64 '--color must be auto, always or never' --stderr -- explain "${z[@]}" --color=sometimes 192.0.2.1 a@example.com
expect explain-bad-identity 64 '--identity must be mfrom, helo or both' --stderr -- explain "${z[@]}" --identity pra 192.0.2.1 a@example.com
expect explain-helo-missing 64 '--identity both needs --helo NAME' --stderr -- explain "${z[@]}" --identity both 192.0.2.1 a@example.com
expect explain-empty-domain 4 "^none: '': the domain is empty" -- explain "${z[@]}" 192.0.2.1 a@
expect explain-bad-helo 64 'HELO name .* contains CR or LF' --stderr -- explain "${z[@]}" --helo $'mx\r\nX' 192.0.2.1 a@example.com
expect explain-bad-header 64 '--header must be received-spf, auth-results or both' --stderr -- explain "${z[@]}" --header x 192.0.2.1 a@example.com
expect explain-bad-zone 64 'cannot load zone file' --stderr -- explain --offline --zone "$tmp/no-such.zone" 192.0.2.1 a@example.com
expect explain-unknown-option 64 "unknown option '--frob'" --stderr -- explain --frob 192.0.2.1 a@example.com
expect explain-null-sender-no-helo 64 'give --helo' --stderr -- explain "${z[@]}" 192.0.2.1 ''

# both identities on check: the result and exit status stay MAIL FROM's
expect check-both-exit 0 '^pass  domain=example.com' -- check "${z[@]}" --identity both --helo mail.example.com 203.0.113.5 alice@example.com
expect check-both-helo-line 0 '^helo: fail  domain=mail.example.com' -- check "${z[@]}" --identity both --helo mail.example.com 203.0.113.5 alice@example.com
expect check-both-json 0 '"helo": \{' -- check "${z[@]}" --json --identity both --helo mail.example.com 203.0.113.5 alice@example.com
expect check-json-elapsed 1 '"elapsed_ms": [0-9]' -- check "${z[@]}" --json 192.0.2.99 alice@example.com
expect check-both-no-helo 64 '--identity both needs --helo NAME' --stderr -- check "${z[@]}" --identity both 192.0.2.1 a@example.com
expect check-idn-sender 4 '^none  domain=xn--bcher-kva.example' -- check "${z[@]}" 192.0.2.1 'a@bücher.example'
expect check-idn-bad 4 "^none .*cannot convert it to an A-label" -- check "${z[@]}" 192.0.2.1 $'a@\xcc\x81b.example'

# headers
expect header-received 0 '^Received-SPF: pass \(mx.example.org: domain of alice@example.com designates' -- check "${z[@]}" --header received-spf --receiver mx.example.org 192.0.2.25 alice@example.com
expect header-authres 1 '^ smtp.mailfrom=example.com; spf=fail' -- check "${z[@]}" --identity both --helo mail.example.com --header both --receiver mx.example.org 192.0.2.99 alice@example.com
expect header-json 0 '"received_spf": \[' -- check "${z[@]}" --json --header both --receiver mx.example.org 192.0.2.25 alice@example.com
expect header-bad 64 '--header must be received-spf, auth-results or both' --stderr -- check "${z[@]}" --header dkim 192.0.2.25 alice@example.com
"$bin" check "${z[@]}" --header both --receiver $'mx\r\nX-Evil: 1' 192.0.2.25 alice@example.com >"$tmp/out" 2>&1
if grep -q '^X-Evil' "$tmp/out" || grep -q $'\r' "$tmp/out"; then bad header-injection 'CR/LF reached the header'
else ok header-injection; fi

# batch: stdin or --input, order kept, malformed lines in place
printf '# comment\n192.0.2.25 alice@example.com\n\n300.1.1.1 a@example.com\n192.0.2.99 alice@example.com mail.example.com\n192.0.2.1 a b c d\n' >"$tmp/b.in"
"$bin" batch "${z[@]}" <"$tmp/b.in" >"$tmp/out" 2>"$tmp/err"; st=$?
if [ $st -ne 64 ]; then bad batch-malformed-exit "exit $st, want 64"; else ok batch-malformed-exit; fi
if [ "$(cut -f1,4 "$tmp/out" | tr '\t\n' ' /')" != "2 pass/4 error/5 fail/6 error/" ]; then
  bad batch-lines "$(cat "$tmp/out")"; else ok batch-lines; fi
if grep -q "^4	300.1.1.1	a@example.com	error	.*the IP field: not an IPv4 or IPv6 address" "$tmp/out"; then ok batch-error-line
else bad batch-error-line "$(sed -n 2p "$tmp/out")"; fi
if grep -q '^batch: 4 lines: pass 1, fail 1, .* error 2; ' "$tmp/err"; then ok batch-summary
else bad batch-summary "$(cat "$tmp/err")"; fi
expect batch-input 64 '^5	192.0.2.99	alice@example.com	fail	-all	example.com	2	0	-	' -- batch "${z[@]}" --input "$tmp/b.in"
expect batch-json 64 '^\{"schema":1,"line":4,"error":' -- batch "${z[@]}" --json --input "$tmp/b.in"
expect batch-both 64 '	fail	-all	example.com	2	0	fail	' -- batch "${z[@]}" --identity both --input "$tmp/b.in"
printf '192.0.2.25 alice@example.com\n' >"$tmp/h.in"
expect batch-helo-missing 64 'needs a HELO name on each line' -- batch "${z[@]}" --identity helo --input "$tmp/h.in"
expect batch-ok-exit 0 '^1	192.0.2.25	alice@example.com	pass	mx' -- batch "${z[@]}" --input "$tmp/h.in"
expect batch-bad-input 64 'cannot read --input' --stderr -- batch "${z[@]}" --input "$tmp/none.in"
expect batch-bad-concurrency 64 '--concurrency must be a number from 1 to 10000' --stderr -- batch "${z[@]}" --concurrency x
expect batch-bad-identity 64 '--identity must be mfrom, helo or both' --stderr -- batch "${z[@]}" --identity x
expect batch-args 64 'batch takes no arguments' --stderr -- batch "${z[@]}" 192.0.2.1 a@example.com
expect batch-help 0 'usage: spfcheck batch' -- batch --help
# issue 12: a UTF-8 byte-order mark before the first line opens no field,
# and a field's bytes are escaped once, never twice
printf '\xef\xbb\xbf192.0.2.25 alice@example.com\n\xef\xbb\xbf192.0.2.26 alice@example.com\n' >"$tmp/bom.in"
"$bin" batch "${z[@]}" --input "$tmp/bom.in" >"$tmp/out" 2>"$tmp/err"
if grep -q '^1	192.0.2.25	alice@example.com	pass	' "$tmp/out"; then ok batch-bom
else bad batch-bom "$(cat "$tmp/out")"; fi
if grep -q 'x5C' "$tmp/out"; then bad batch-escaped-twice "$(cat "$tmp/out")"
else ok batch-escaped-twice; fi
# a quoted local-part with a space is one field (RFC 5321 Quoted-string)
printf '192.0.2.99 "john smith"@example.com mail.example.com\n' >"$tmp/q.in"
expect batch-quoted-local 0 '^1	192.0.2.99	"john smith"@example.com	fail	-all	example.com	' -- batch "${z[@]}" --input "$tmp/q.in"
printf 'fe80::1%%eth0 a@example.com\n' >"$tmp/z.in"
expect batch-zone-index 64 '^1	fe80::1%eth0	a@example.com	error	.*the IP field: an IPv6 zone index' -- batch "${z[@]}" --input "$tmp/z.in"
awk 'BEGIN { printf "%s", "x"; for (i = 0; i < 5000; i++) printf "yyyyyyyy"; print " a@example.com" }' >"$tmp/long.in"
expect batch-long-line 64 '^1	.*error.*longer than 4096 characters' -- batch "${z[@]}" --input "$tmp/long.in"

# 10,000 lines, many in flight: 10,000 result lines in input order
awk 'BEGIN {
  split("192.0.2.25 192.0.2.99 203.0.113.5 2001:db8::25 198.51.100.20 192.0.2.26", ip, " ");
  split("alice@example.com orders@shop.example.com a@greedy.example.org x@nosuch.example.com", s, " ");
  for (i = 0; i < 10000; i++) print ip[i % 6 + 1], s[i % 4 + 1], "mail.example.com" }' >"$tmp/big.in"
"$bin" batch "${z[@]}" --concurrency 100 --identity both <"$tmp/big.in" >"$tmp/big.out" 2>"$tmp/err"; st=$?
if [ $st -ne 0 ]; then bad batch-10000-exit "exit $st: $(cat "$tmp/err")"
elif [ "$(wc -l <"$tmp/big.out")" -ne 10000 ]; then bad batch-10000-count "$(wc -l <"$tmp/big.out") lines"
elif ! paste "$tmp/big.in" "$tmp/big.out" | awk -F'\t' '{ split($1, f, " ") } $2 != NR || $3 != f[1] || $4 != f[2] { exit 1 }'; then
  bad batch-10000-order 'output out of input order'
else ok batch-10000; fi
"$bin" batch "${z[@]}" --json --concurrency 7 <"$tmp/big.in" 2>/dev/null | tail -1 >"$tmp/out"
if grep -q '"line":10000' "$tmp/out"; then ok batch-10000-json; else bad batch-10000-json "$(cat "$tmp/out")"; fi

# the command itself
expect main-help 0 'explain IP SENDER' -- --help
expect main-help-batch 0 'batch ' -- --help
"$bin" >/dev/null 2>&1; st=$?
if [ $st -eq 64 ]; then ok main-no-args; else bad main-no-args "exit $st, want 64"; fi

printf '192.0.2.25 alice@example.com\nnot-an-ip a@example.com\n192.0.2.99 alice@example.com\n' >"$tmp/brief.txt"
expect batch-brief 64 '^pass$' -- batch --offline --zone "$zone" --brief --input "$tmp/brief.txt"
if [ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "pass error fail " ]; then
  echo "ok   batch-brief-order"; pass=$((pass + 1))
else
  echo "FAIL batch-brief-order: $(tr '\n' ' ' <"$tmp/out")"; fail=$((fail + 1))
fi
# the error line says why (issue 17): the word, a tab, the reason
if [ "$(sed -n 2p "$tmp/out")" = "$(printf 'error\tthe IP field: not an IPv4 or IPv6 address (RFC 7208 \302\2474.1)')" ]; then
  ok batch-brief-reason
else bad batch-brief-reason "$(sed -n 2p "$tmp/out")"; fi
# --helo names the client (%{h}, the null sender's domain) and --identity
# says what is checked, the same in check and explain (issue 17): the
# identities evaluated, the result and the exit status agree
idents() {   # the identities of a JSON result: "identity [helo] [mfrom]"
  python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["identity"], *sorted(o.get("identities", {})))'
}
for opts in "--helo mail.example.com" "--identity both --helo mail.example.com" \
            "--identity helo --helo mail.example.com" "--identity mfrom --helo mail.example.com"; do
  # shellcheck disable=SC2086
  "$bin" check --json "${z[@]}" $opts 192.0.2.99 alice@example.com >"$tmp/c" 2>&1; cs=$?
  # shellcheck disable=SC2086
  "$bin" explain --json "${z[@]}" $opts 192.0.2.99 alice@example.com >"$tmp/e" 2>&1; es=$?
  ci=$(idents <"$tmp/c") ei=$(idents <"$tmp/e")
  cr=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' <"$tmp/c")
  er=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' <"$tmp/e")
  if [ "$cs" = "$es" ] && [ "$ci" = "$ei" ] && [ "$cr" = "$er" ]; then
    ok "helo-same: $opts: $ci, $cr, exit $cs"
  else bad "helo-same: $opts" "check: $ci $cr exit $cs; explain: $ei $er exit $es"; fi
done
# --helo alone: MAIL FROM only, in both commands
expect helo-alone-check 1 '^fail ' -- check "${z[@]}" --helo mail.example.com 192.0.2.99 alice@example.com
if grep -q '^helo: ' "$tmp/out"; then bad helo-alone-check-no-helo "a HELO line"; else ok helo-alone-check-no-helo; fi
expect helo-alone-explain 1 '^MAIL FROM identity: alice@example.com, client 192.0.2.99, HELO mail.example.com$' -- explain --color=never "${z[@]}" --helo mail.example.com 192.0.2.99 alice@example.com
if grep -q 'HELO identity' "$tmp/out"; then bad helo-alone-explain-no-helo "a HELO identity"; else ok helo-alone-explain-no-helo; fi
expect helo-both-explain 1 '^HELO identity: postmaster@mail.example.com' -- explain --color=never "${z[@]}" --identity both --helo mail.example.com 192.0.2.99 alice@example.com
# the help of both says so, in the same words
for c in check explain; do
  "$bin" $c --help >"$tmp/h.$c"
  grep -A6 -- '^  --helo NAME' "$tmp/h.$c" >"$tmp/hh.$c"
done
if grep -q 'only with --identity helo|both' "$tmp/hh.check" && cmp -s "$tmp/hh.check" "$tmp/hh.explain"; then
  ok helo-help-same
else bad helo-help-same "check and explain --help differ on --helo/--identity"; diff "$tmp/hh.check" "$tmp/hh.explain"; fi

# --void-count rfc|per-query (issue 17): testdata/void-count.zone has three
# IPv4-only MX hosts before the IPv6 network of the client
v=(--offline --zone "$(dirname "$zone")/void-count.zone")
expect void-count-rfc 0 '^pass .*void=0/2$' -- check "${v[@]}" 2001:db8:77::5 a@v4mx.example.net
expect void-count-rfc-other 0 '^pyspf and Mail::SPF: permerror: too many void lookups: .*MX host mx3\.v4mx\.example\.net has no AAAA record.*--void-count per-query\)$' -- check "${v[@]}" 2001:db8:77::5 a@v4mx.example.net
expect void-count-per-query 5 '^permerror .*void=3/2' -- check "${v[@]}" --void-count per-query 2001:db8:77::5 a@v4mx.example.net
expect void-count-per-query-other 5 '^RFC 7208: pass \(void lookups counted per term' -- check "${v[@]}" --void-count per-query 2001:db8:77::5 a@v4mx.example.net
expect void-count-explain 0 '^pyspf and Mail::SPF: permerror: ' -- explain "${v[@]}" 2001:db8:77::5 a@v4mx.example.net
expect void-count-explain-per-query 5 'void lookup 3/2: AAAA mx3\.v4mx\.example\.net has no answer' -- explain "${v[@]}" --void-count per-query 2001:db8:77::5 a@v4mx.example.net
# the same result both ways: no line
expect void-count-same 0 '^pass ' -- check "${v[@]}" 2001:db8:77::5 a@two.example.net
if grep -q 'pyspf' "$tmp/out"; then bad void-count-same-no-line "a line"; else ok void-count-same-no-line; fi
expect void-count-json 0 '"receivers": "pyspf and Mail::SPF"' -- check --json "${v[@]}" 2001:db8:77::5 a@v4mx.example.net
expect void-count-json-null 0 '"other_receivers": null' -- check --json "${v[@]}" 2001:db8:77::5 a@two.example.net
expect void-count-bad 64 "^spfcheck: --void-count must be rfc or per-query, not 'pyspf'$" --stderr -- check "${v[@]}" --void-count pyspf 2001:db8:77::5 a@v4mx.example.net
expect void-count-bad-explain 64 "^spfcheck: --void-count must be rfc or per-query" --stderr -- explain "${v[@]}" --void-count '' 2001:db8:77::5 a@v4mx.example.net
printf '2001:db8:77::5 a@v4mx.example.net\n2001:db8:77::5 a@two.example.net\n' >"$tmp/vin"
"$bin" batch "${v[@]}" --brief --void-count per-query <"$tmp/vin" >"$tmp/vout" 2>/dev/null
"$bin" batch "${v[@]}" --brief <"$tmp/vin" >"$tmp/vout2" 2>/dev/null
if [ "$(tr '\n' ' ' <"$tmp/vout")" = "permerror pass " ] && [ "$(tr '\n' ' ' <"$tmp/vout2")" = "pass pass " ]; then
  ok void-count-batch
else bad void-count-batch "per-query: $(tr '\n' ' ' <"$tmp/vout"); rfc: $(tr '\n' ' ' <"$tmp/vout2")"; fi
expect void-count-batch-bad 64 "^spfcheck: --void-count must be" --stderr -- batch --void-count x

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
