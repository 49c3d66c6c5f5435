#!/usr/bin/env bash
# lint.sh - command-line tests of spfcheck lint, flatten and diff: exit
# statuses, positioned output, --json, bad input, and flatten's
# equivalence check on a provider-shaped tree (testdata/provider.zone).
# No network: every case uses --offline.
# usage: lint.sh SPFCHECK TESTDATA_DIR
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
td=$2
. "$(dirname "$0")/expect.sh"

z=(--offline --zone "$td/lint-demo.zone")
r=(--offline --zone "$td/lint-rules.zone")

# same NAME -- ARGS... <<EOF: run "$bin" ARGS; stdout and stderr, then a
# last line "[exit N]", must be exactly the text on stdin.
same() {
  local name=$1
  shift
  [ "$1" = "--" ] && shift
  cat >"$tmp/want"
  "$bin" "$@" >"$tmp/out" 2>&1
  echo "[exit $?]" >>"$tmp/out"
  if diff -u "$tmp/want" "$tmp/out" >"$tmp/diff"; then ok "$name"
  else bad "$name" "output differs"; sed 's/^/  | /' "$tmp/diff"; fi
}
p=(--offline --zone "$td/provider.zone")

# lint: exit statuses
expect lint-clean 0 '0 errors, 0 warnings' -- lint "${z[@]}" good.example.org
expect lint-errors 2 'error\[L-PASS-ALL\]' -- lint "${z[@]}" shop.example.org
expect lint-warnings 0 'warning\[L-NO-ALL\]' -- lint --offline --record 'v=spf1 ip4:192.0.2.1'
expect lint-strict 1 'warning\[L-NO-ALL\]' -- lint --offline --strict --record 'v=spf1 ip4:192.0.2.1'
expect lint-strict-clean 0 '0 errors, 0 warnings' -- lint --offline --strict --record 'v=spf1 ip4:192.0.2.0/24 -all'
expect lint-info-only 0 'info\[L-DYNAMIC\]' -- lint --offline --strict --record 'v=spf1 include:%{l}.u.example.org -all'
# lint: positions (compiler style: record, carets, message)
"$bin" lint --offline --record 'v=spf1 ip4:192.0.2.0/24 +all' >"$tmp/out" 2>&1
if grep -q '^draft.invalid: v=spf1 ip4:192.0.2.0/24 +all$' "$tmp/out" &&
   grep -Eq '^ {39}\^~~~$' "$tmp/out" &&
   grep -q '^error\[L-PASS-ALL\]: .*(RFC 7208 §5.1)$' "$tmp/out"; then ok lint-underline
else bad lint-underline "$(cat "$tmp/out")"; fi
expect lint-syntax-every 2 'unknown mechanism .moo.' -- lint --offline --record 'v=spf1 ip4:192.0.2.300 moo -all'
"$bin" lint --offline --record 'v=spf1 ip4:192.0.2.300 moo -all' | grep -c 'L-SYNTAX' >"$tmp/n"
if [ "$(cat "$tmp/n")" = 2 ]; then ok lint-syntax-two; else bad lint-syntax-two "$(cat "$tmp/n") L-SYNTAX"; fi
expect lint-typo 2 'did you mean redirect=' -- lint "${z[@]}" typo.example.org
# did you mean, for mechanisms too (issue 17)
same lint-mech-typos -- lint --offline --record 'v=spf1 inlude:_spf.example.com ip:192.0.2.1 ~al' <<'EOF'
draft.invalid: v=spf1 inlude:_spf.example.com ip:192.0.2.1 ~al
                      ^~~~~~
error[L-SYNTAX]: unknown mechanism 'inlude' (did you mean include?); a syntax error anywhere makes the whole record a permerror (RFC 7208 §4.6)

draft.invalid: v=spf1 inlude:_spf.example.com ip:192.0.2.1 ~al
                                              ^~
error[L-SYNTAX]: unknown mechanism 'ip' (did you mean ip4?); a syntax error anywhere makes the whole record a permerror (RFC 7208 §4.6)

draft.invalid: v=spf1 inlude:_spf.example.com ip:192.0.2.1 ~al
                                                            ^~
error[L-SYNTAX]: unknown mechanism 'al' (did you mean all?); a syntax error anywhere makes the whole record a permerror (RFC 7208 §4.6)

draft.invalid: 3 errors, 0 warnings, 0 notes; 1 record, 0 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 2]
EOF
# pass for the whole Internet without +all (issue 17)
# L-EXP names the typographic character in the explanation (issue 17)
same lint-exp-en-dash -- lint --offline --zone "$td/lint-rules.zone" exp-dash.example.net <<'EOF'
exp-dash.example.net: v=spf1 ip4:192.0.2.0/24 -all exp=why.exp-dash.example.net
                                                   ^~~~~~~~~~~~~~~~~~~~~~~~~~~~
warning[L-EXP]: the explanation at why.exp-dash.example.net contains the non-ASCII character EN DASH (U+2013) at offset 23: receivers ignore it; type '-' instead (RFC 7208 §6.2)

exp-dash.example.net: 0 errors, 1 warning, 0 notes; 1 record, 0 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 0]
EOF
same lint-pass-wide -- lint --offline --strict --zone "$td/lint-rules.zone" wide.example.net <<'EOF'
wide.example.net: v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 ip6:::/1 ip6:8000::/1 -all
                         ^~~~~~~~~~~~~
error[L-PASS-WIDE]: the tree lets 4294967296 IPv4 addresses pass, 100.0% of all, as many as a /0 (the most through 'ip4:0.0.0.0/1'): effectively +all, every host in them can send as wide.example.net; list only the networks the mail leaves from (RFC 7208 §5.1)

wide.example.net: v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 ip6:::/1 ip6:8000::/1 -all
                                                       ^~~~~~~~
error[L-PASS-WIDE]: the tree lets about 2^128 IPv6 addresses pass, 100.0% of all, as many as a /0 (the most through 'ip6:::/1'): effectively +all, every host in them can send as wide.example.net; list only the networks the mail leaves from (RFC 7208 §5.1)

wide.example.net: 2 errors, 0 warnings, 0 notes; 1 record, 0 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 2]
EOF
expect lint-pass-wide-any 2 "^error\[L-PASS-WIDE\]: the tree lets 4294967296 IPv4 addresses pass, 100.0% of all, as many as a /0 \(the most through 'ip4:0.0.0.0/0'\)" -- lint "${r[@]}" wide-any.example.net
expect lint-pass-wide-include 2 "^error\[L-PASS-WIDE\]: the tree lets 1593835776 IPv4 addresses pass, 37.1% of all, as many as a /2 \(the most through 'include:wideinc.example.net'\)" -- lint "${r[@]}" wide-include.example.net
expect lint-pass-narrow 0 '^narrow.example.net: 0 errors, 0 warnings' -- lint --strict "${r[@]}" narrow.example.net
# special-purpose ranges, named (issue 17)
"$bin" lint "${r[@]}" special.example.net >"$tmp/out" 2>&1
grep '^warning\[L-SPECIAL-RANGE\]' "$tmp/out" | sed 's/: mail from the Internet.*//' >"$tmp/got"
cat >"$tmp/want" <<'EOF'
warning[L-SPECIAL-RANGE]: 'ip4:192.168.1.0/24' is inside 192.168.0.0/16, Private-Use (RFC 1918)
warning[L-SPECIAL-RANGE]: 'ip4:10.1.2.3' is inside 10.0.0.0/8, Private-Use (RFC 1918)
warning[L-SPECIAL-RANGE]: 'ip6:fd00:1:2::/48' is inside fc00::/7, Unique-Local (RFC 4193)
warning[L-SPECIAL-RANGE]: 'ip6:fe80::1' is inside fe80::/10, Link-Local Unicast (RFC 4291)
warning[L-SPECIAL-RANGE]: 'ip4:127.0.0.1' is inside 127.0.0.0/8, Loopback (RFC 1122)
EOF
if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then ok lint-special-ranges
else bad lint-special-ranges "$(cat "$tmp/diff")"; fi
expect lint-special-doc 1 "^warning\[L-SPECIAL-RANGE\]: 'ip4:192.0.2.0/24' is inside 192.0.2.0/24, Documentation \(TEST-NET-1\) \(RFC 5737\): addresses reserved for examples" -- lint --offline --strict --record 'v=spf1 ip4:192.0.2.0/24 -all' --domain mail.acme.example.de
# duplicates and what they cost (issue 17)
expect lint-duplicate 0 "^warning\[L-DUPLICATE\]: 'include:_spf.example.net' repeats 'include:_spf.example.net' earlier in the record: it never matches anything the first did not, and spends 3 more of the 10 DNS lookups; remove it \(RFC 7208 §4.6.2\)$" -- lint "${r[@]}" dup.example.net
expect lint-duplicate-tree 0 "^warning\\[L-DUPLICATE\\]: 'include:_spf.example.net' includes _spf.example.net, which the tree already includes from the record of dup-tree.example.net: its subtree is evaluated again and spends 3 more of the 10 DNS lookups; include it once where that gives the same results \\(RFC 7208 §4.6.4\\)$" -- lint "${r[@]}" dup-tree.example.net
# a provider included twice: one L-DUPLICATE with the whole subtree's cost,
# the second copy's ptr and includes not reported again (issue 17)
same lint-duplicate-subtree -- lint "${r[@]}" dup-twice.example.net <<'EOF'
dup-twice.example.net: v=spf1 include:prov.example.net include:prov.example.net -all
                                                       ^~~~~~~~~~~~~~~~~~~~~~~~
warning[L-DUPLICATE]: 'include:prov.example.net' repeats 'include:prov.example.net' earlier in the record: it never matches anything the first did not, and spends 4 more of the 10 DNS lookups; remove it (RFC 7208 §4.6.2)

prov.example.net: v=spf1 include:prov-a.example.net include:prov-b.example.net ptr -all
                                                                               ^~~
warning[L-PTR]: the ptr mechanism SHOULD NOT be used: it is slow, unreliable and some receivers skip it; list the networks with ip4:/ip6: instead (RFC 7208 §5.5)

dup-twice.example.net: 0 errors, 2 warnings, 0 notes; 7 records, 8 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 0]
EOF
n=$("$bin" lint "${r[@]}" dup-tree.example.net | grep -c '^warning\[L-DUPLICATE\]')
if [ "$n" = 1 ]; then ok lint-duplicate-tree-once; else bad lint-duplicate-tree-once "$n L-DUPLICATE, want 1"; fi
# TXT strings joined without a space (issue 17)
same lint-glued -- lint "${r[@]}" glued.example.net <<'EOF'
glued.example.net: v=spf1 ip4:192.0.2.1-all
                                       ^
error[L-GLUED]: character-strings 1 and 2 of the TXT record are joined without a space: 'ip4:192.0.2.1' and '-all' become 'ip4:192.0.2.1-all', which is not a term ('192.0.2.1-all' is not a valid IPv4 address), and the record is a permerror; end string 1 with a space or start string 2 with one (RFC 7208 §3.3)

glued.example.net: 1 error, 0 warnings, 0 notes; 1 record, 0 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 2]
EOF
expect lint-glued-version 2 "^error\\[L-VERSION\\]: character-strings 1 and 2 of the TXT record are joined without a space \\(RFC 7208 §3.3\\): 'v=spf1' runs into the first term" -- lint "${r[@]}" glued-version.example.net
expect lint-glued-split 0 '^glued-split.example.net: 0 errors, 0 warnings' -- lint --strict "${r[@]}" glued-split.example.net
expect lint-glued-parses 2 "^warning\[L-GLUED\]: .* 'include:_spf.example.net' and 'a' become the one term 'include:_spf.example.neta'" -- lint "${r[@]}" glued-parses.example.net
# the offending character named, at its real offset (issue 17)
same lint-en-dash -- lint --offline --record 'v=spf1 ip4:192.0.2.1 –all' <<'EOF'
draft.invalid: v=spf1 ip4:192.0.2.1 ???all
                                    ^~~
error[L-SYNTAX]: non-ASCII character EN DASH (U+2013): SPF records must be US-ASCII (RFC 7208 §3.1); type '-' instead; a syntax error anywhere makes the whole record a permerror (RFC 7208 §4.6)

draft.invalid: 1 error, 0 warnings, 0 notes; 1 record, 0 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 2]
EOF
expect lint-en-dash-json 2 '"offset": 21,' -- lint --offline --json --record 'v=spf1 ip4:192.0.2.1 –all'
expect check-en-dash 5 'at byte 21: non-ASCII character EN DASH \(U\+2013\)' -- check --offline --record 'x.example.org=v=spf1 ip4:192.0.2.1 –all' 192.0.2.1 a@x.example.org
# an all that does not parse is no missing all: no L-NO-ALL (issue 17)
expect lint-nbsp-all-no-no-all 2 '^draft.invalid: 1 error, 0 warnings' -- lint --offline --record $'v=spf1 ip4:192.0.2.1\xc2\xa0-all'
expect lint-syntax-still-no-all 2 '^warning\[L-NO-ALL\]' -- lint --offline --record 'v=spf1 ip4:192.0.2.300'
# a no-break space after v=spf1, a byte order mark before it (issue 17)
same lint-nbsp-version -- lint "${r[@]}" nbsp-version.example.net <<'EOF'
nbsp-version.example.net: v=spf1??ip4:192.0.2.1 -all
                                ^~
error[L-VERSION]: the version tag 'v=spf1' is followed by NO-BREAK SPACE (U+00A0), not by a space: receivers do not select this record and see no SPF record at all; type a space instead (RFC 7208 §4.5)

error[L-NO-RECORD] nbsp-version.example.net: nbsp-version.example.net has no SPF record (a TXT record starting 'v=spf1'): receivers give none; publish one, e.g. "v=spf1 mx -all", or "v=spf1 -all" for a domain that sends no mail (RFC 7208 §4.5)

nbsp-version.example.net: 2 errors, 0 warnings, 0 notes; 0 records, 0 DNS lookups (limit 10), 0 void (limit 2; 0 per query, IPv6 client 0/0)
[exit 2]
EOF
expect lint-bom-version 2 "^error\[L-VERSION\]: ZERO WIDTH NO-BREAK SPACE \(BYTE ORDER MARK\) \(U\+FEFF\) before 'v=spf1': receivers do not select this record" -- lint "${r[@]}" bom-version.example.net
expect lint-nbsp-version-draft 2 "^error\[L-VERSION\]: the version tag 'v=spf1' is followed by NO-BREAK SPACE \(U\+00A0\)" -- lint --offline --record $'v=spf1\xc2\xa0ip4:192.0.2.1 -all'
# a TAB or control byte: no term-relative offset in the message, the
# finding's range is the position in the record, as check's byte (issue 17)
expect lint-tab-json 2 '"message": "TAB: terms must be separated by spaces only' -- lint --offline --json --record $'v=spf1 ip4:192.0.2.1 ip4:192.0.2.2\t-all'
expect lint-tab-offset 2 '"offset": 34,' -- lint --offline --json --record $'v=spf1 ip4:192.0.2.1 ip4:192.0.2.2\t-all'
expect check-tab 5 'at byte 34: TAB: terms must be separated' -- check --offline --record $'x.example.org=v=spf1 ip4:192.0.2.1 ip4:192.0.2.2\t-all' 192.0.2.1 a@x.example.org
expect lint-control-offset 2 '"offset": 27,' -- lint --offline --json --record $'v=spf1 a ip4:192.0.2.1 -all\x01'
expect lint-loop 2 'error\[L-LOOP\]' -- lint "${z[@]}" loop1.example.org
expect lint-multiple 2 'L-MULTIPLE' -- lint "${z[@]}" twice.example.org
expect lint-type99 2 'L-TYPE99-ONLY' -- lint "${z[@]}" old.example.org
expect lint-leading-space 2 'L-VERSION' -- lint "${z[@]}" leading.example.org
expect lint-no-record 2 'L-NO-RECORD' -- lint "${z[@]}" nosuch.example.org
expect lint-draft-domain 0 'example.com: 0 errors' -- lint --offline --zone "$td/provider.zone" --record 'v=spf1 mx -all' --domain customer.example.com
expect lint-past-limit 2 '18 DNS lookups' -- lint --offline --record 'v=spf1 a:a1.example.org a:a2.example.org a:a3.example.org a:a4.example.org a:a5.example.org a:a6.example.org a:a7.example.org a:a8.example.org a:a9.example.org a:a10.example.org a:a11.example.org a:a12.example.org a:a13.example.org a:a14.example.org a:a15.example.org a:a16.example.org a:a17.example.org a:a18.example.org -all'
# lint: JSON
expect lint-json 2 '"rule": "L-PASS-ALL"' -- lint "${z[@]}" --json shop.example.org
"$bin" lint "${z[@]}" --json shop.example.org >"$tmp/out" 2>/dev/null
if grep -q '"offset": ' "$tmp/out" && grep -q '"lookups": 4' "$tmp/out" && grep -q '"void_lookups_ipv6": 1' "$tmp/out"; then ok lint-json-fields
else bad lint-json-fields "$(head -30 "$tmp/out")"; fi
# lint: bad input
expect lint-no-args 64 'lint needs DOMAIN' --stderr -- lint --offline
expect lint-bad-domain 64 'is not a domain name' --stderr -- lint --offline 'a b'
expect lint-two-domains 64 'lint takes one DOMAIN' --stderr -- lint --offline a.example.org b.example.org
expect lint-bad-option 64 'unknown option' --stderr -- lint --bogus a.example.org
expect lint-bad-zone 64 'cannot load zone file' --stderr -- lint --offline --zone "$tmp/none.zone" a.example.org
expect lint-bad-void-limit 64 'void-limit' --stderr -- lint --offline --void-limit x a.example.org
# options that cannot apply are refused, not silently ignored
expect lint-no-deadline 64 '^spfcheck: --deadline does not apply to spfcheck lint' --stderr -- lint --offline --deadline 100 a.example.org
expect flatten-no-void-limit 64 '^spfcheck: --void-limit does not apply to spfcheck flatten' --stderr -- flatten --offline --void-limit 3 a.example.org
expect diff-no-receiver 64 '^spfcheck: --receiver does not apply to spfcheck diff' --stderr -- diff --offline --receiver mx.example a.example.org --record 'v=spf1 -all'
expect lint-help 0 'usage: spfcheck lint' -- lint --help

# flatten: a provider-shaped tree, verified by evaluation
expect flatten-provider 0 'verified: [0-9]+ addresses, [0-9]+ agree, 0 differ - OK' -- flatten "${p[@]}" customer.example.com
"$bin" flatten "${p[@]}" customer.example.com >"$tmp/flat" 2>&1
# every string at most 255 bytes, every answer under 450 bytes
if grep -o '"[^"]*"' "$tmp/flat" | awk '{ if (length($0) - 2 > 255) bad = 1 } END { exit bad }' &&
   awk -F'; ' '/IN\tTXT/ { split($NF, a, " "); if (a[1] >= 450) bad = 1 } END { exit bad }' "$tmp/flat"; then
  ok flatten-sizes
else bad flatten-sizes "$(cat "$tmp/flat")"; fi
if [ "$(grep -c 'IN	TXT' "$tmp/flat")" -ge 2 ]; then ok flatten-chain; else bad flatten-chain "$(cat "$tmp/flat")"; fi
# a -ip4 inside an include never becomes a top-level fail
if ! grep -q -- '-ip4:172.20' "$tmp/flat" && grep -q 'ip4:172.20.0.0/29' "$tmp/flat"; then ok flatten-qualifiers
else bad flatten-qualifiers "$(cat "$tmp/flat")"; fi
# the flattened zone lines load and give the same results as the original
grep 'IN	TXT' "$tmp/flat" | sed 's/\t; .*//' >"$tmp/flat.zone"
for ip in 192.0.2.10 198.51.100.30 172.16.4.9 172.20.0.9 172.21.3.3 203.0.113.200 2001:db8:c::10 2001:db8:104::1 10.0.0.1; do
  a=$("$bin" check "${p[@]}" "$ip" postmaster@customer.example.com | cut -d' ' -f1)
  b=$("$bin" check --offline --zone "$td/provider.zone" --zone "$tmp/flat.zone" \
      --record "customer.example.com=$(grep '^customer' "$tmp/flat.zone" | sed 's/^[^"]*//; s/" "//g; s/"//g')" \
      "$ip" postmaster@customer.example.com | cut -d' ' -f1)
  if [ "$a" = "$b" ] && [ -n "$a" ]; then ok "flatten-same-$ip"; else bad "flatten-same-$ip" "$a vs $b"; fi
done
expect flatten-json 0 '"ok": true' -- flatten "${p[@]}" --json customer.example.com
# exp= after all is kept on the flattened record (a fail keeps its explanation)
expect flatten-keeps-exp 0 '-all exp=why\.example\.com"' -- flatten --offline --zone "$td/demo.zone" example.com
expect flatten-kept 0 'warning: .exists:%\{i\}._spf.example.org. .*kept' -- flatten --offline --record 'k.example.org=v=spf1 exists:%{i}._spf.example.org ip4:192.0.2.0/24 -all' k.example.org
# both limits of RFC 7208 §4.6.4 alike: counted apart, not DIFFERENT (issue 17)
expect flatten-void-limit 0 '^; verified: 10 addresses, 0 agree, 0 differ, 10 where the original hits a lookup or void-lookup limit \(permerror; the flattened records fix it\) - OK$' -- flatten "${r[@]}" flat-void.example.net
expect flatten-lookup-limit 0 '^; verified: 14 addresses, 1 agree, 0 differ, 13 where the original hits a lookup or void-lookup limit \(permerror; the flattened records fix it\) - OK$' -- flatten "${r[@]}" flat-lookups.example.net
expect flatten-pass-all 0 "^; warning: '\\+all' in the record of passall\.example\.net lets every host on the Internet pass, and so do the flattened records; end with -all or ~all$" -- flatten "${r[@]}" flat-passall.example.net
expect flatten-broken 2 'cannot flatten' --stderr -- flatten "${z[@]}" typo.example.org
expect flatten-loop 2 'cannot flatten' --stderr -- flatten "${z[@]}" loop1.example.org
expect flatten-no-args 64 'flatten needs one DOMAIN' --stderr -- flatten --offline
# every command names an unexpected argument (cmd_operands, issue 12)
expect flatten-extra 64 "unexpected argument 'b.example': spfcheck flatten takes one DOMAIN" --stderr -- flatten --offline a.example b.example
expect diff-extra 64 "unexpected argument 'b.example': spfcheck diff takes one DOMAIN" --stderr -- diff --offline --record 'v=spf1 -all' a.example b.example
expect lint-extra-with-domain 64 "unexpected argument 'b.example': spfcheck lint takes no DOMAIN besides --domain" --stderr -- lint --offline --record 'v=spf1 -all' --domain a.example b.example
expect policyd-extra 64 "unexpected argument 'x': spfcheck policyd takes no arguments" --stderr -- policyd x
expect flatten-bad-prefix 64 'prefix' --stderr -- flatten --offline --prefix a.b x.example.org

# diff
printf '# hosts\n192.0.2.10\n198.51.100.30\n172.20.0.9\n203.0.113.200\n' >"$tmp/ips"
expect diff-record 0 '203.0.113.200: fail -> pass' -- diff --offline --current "$td/provider.zone" customer.example.com --record 'v=spf1 mx include:_spf.provider.example.net ip4:192.0.2.0/24 -all' --ips "$tmp/ips"
expect diff-default 0 'default: +softfail -> fail' -- diff --offline --current "$td/provider.zone" customer.example.com --record 'v=spf1 mx include:_spf.provider.example.net -all'
expect diff-lookups 0 'DNS lookups: +8 -> 7' -- diff --offline --current "$td/provider.zone" customer.example.com --record 'v=spf1 mx include:_spf.provider.example.net -all'
expect diff-zone 0 '172.20.0.9: softfail -> pass' -- diff --offline --current "$td/provider.zone" --zone "$td/provider-draft.zone" customer.example.com --ips "$tmp/ips"
expect diff-zone-removed 0 '- 198.51.100.30/31' -- diff --offline --current "$td/provider.zone" --zone "$td/provider-draft.zone" customer.example.com
expect diff-json 0 '"before": "fail"' -- diff --offline --json --current "$td/provider.zone" customer.example.com --record 'v=spf1 mx include:_spf.provider.example.net ip4:192.0.2.0/24 -all' --ips "$tmp/ips"
expect diff-no-draft 64 'diff needs a draft' --stderr -- diff --offline customer.example.com
printf '192.0.2.1\nnot-an-ip\n' >"$tmp/badips"
expect diff-bad-ips 64 'badips:2: .not-an-ip. is not an IPv4 or IPv6 address' --stderr -- diff --offline --record 'v=spf1 -all' --ips "$tmp/badips" x.example.org
expect diff-missing-ips 64 'cannot read --ips' --stderr -- diff --offline --record 'v=spf1 -all' --ips "$tmp/none" x.example.org

# every command's JSON starts with "schema": 1 (issue 17); lint counts
# its info findings as "notes", the word of its text output
json_schema() {
  local name=$1
  shift
  "$bin" "$@" --json >"$tmp/out" 2>/dev/null
  if python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); sys.exit(0 if list(o)[0] == "schema" and o["schema"] == 1 else 1)' "$tmp/out"; then
    ok "$name"
  else bad "$name" "$(head -5 "$tmp/out")"; fi
}
dz=(--offline --zone "$td/demo.zone")
json_schema json-schema-check check "${dz[@]}" 192.0.2.99 alice@example.com
json_schema json-schema-explain explain "${dz[@]}" 192.0.2.99 alice@example.com
json_schema json-schema-lint lint "${z[@]}" shop.example.org
json_schema json-schema-flatten flatten "${p[@]}" customer.example.com
json_schema json-schema-diff diff "${p[@]}" customer.example.com --record 'v=spf1 -all'
json_schema json-schema-senderid senderid --offline --zone "$td/senderid.zone" author.example
printf '192.0.2.99 alice@example.com\n' | "$bin" batch --offline --zone "$td/demo.zone" --json >"$tmp/out" 2>/dev/null
if python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); sys.exit(0 if o["schema"] == 1 else 1)' "$tmp/out"; then ok json-schema-batch
else bad json-schema-batch "$(head -5 "$tmp/out")"; fi
"$bin" lint "${z[@]}" --json good.example.org >"$tmp/out" 2>/dev/null
if grep -q '"notes": ' "$tmp/out" && ! grep -q '"infos"' "$tmp/out"; then ok lint-json-notes
else bad lint-json-notes "$(head -12 "$tmp/out")"; fi

echo "lint-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
