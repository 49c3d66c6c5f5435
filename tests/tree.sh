#!/usr/bin/env bash
# tree.sh - command-line tests of spfcheck tree: exit statuses, the
# provider list (data/providers.txt: found through --providers,
# SPFCHECK_PROVIDERS or not at all; a bad line is one error naming
# FILE:LINE), drafts, bad input.  The text output itself is in
# tests/golden/tree-*.  No network: every case uses --offline.
# usage: tree.sh SPFCHECK TESTDATA_DIR
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
td=$2
. "$(dirname "$0")/expect.sh"

list=$(cd "$td/.." && pwd)/data/providers.txt
z=(--offline --zone "$td/tree.zone")
export SPFCHECK_PROVIDERS=$list

# exit statuses: within the limits, past one, no record, bad input
expect tree-within 0 '6 DNS lookups \(limit 10\).*4 to spare' -- tree "${z[@]}" small.example.com
expect tree-past-lookups 1 'lookup 11: past the limit of 10' -- tree "${z[@]}" shop.example.com
expect tree-past-voids 1 'void lookup 3: past the limit of 2' -- tree "${z[@]}" --record 'v=spf1 a:x1.example.com a:x2.example.com a:x3.example.com -all'
expect tree-void-limit 0 '3 void lookups \(limit 3\)' -- tree "${z[@]}" --void-limit 3 --record 'v=spf1 a:x1.example.com a:x2.example.com a:x3.example.com -all'
expect tree-none 2 'no SPF record' -- tree "${z[@]}" nosuch.example.com
expect tree-syntax 2 'syntax errors' -- tree "${z[@]}" --record 'v=spf1 include:sendgrid.net ip4:300.1.1.1 -all'
expect tree-not-spf 2 'no SPF record' -- tree "${z[@]}" --record 'v=spf2 -all'
expect tree-no-domain 64 'tree needs DOMAIN' --stderr -- tree --offline
expect tree-two-domains 64 'unexpected' --stderr -- tree --offline a.example.com b.example.com
expect tree-bad-domain 64 'domain' --stderr -- tree --offline 'bad domain'
expect tree-bad-option 64 'unknown option' --stderr -- tree --offline --frobnicate x.example.com
expect tree-eval-option 64 'deadline' --stderr -- tree --offline --deadline 100 x.example.com
expect tree-zone-missing 64 'nosuch.zone' --stderr -- tree --offline --zone "$tmp/nosuch.zone" x.example.com

# the draft's domain and a DOMAIN=TEXT record for an include target
expect tree-draft-domain 0 '^draft\.example\.com +own' -- tree --offline --domain draft.example.com --record 'v=spf1 include:spf.mtasv.net -all' --record 'spf.mtasv.net=v=spf1 ip4:192.0.2.1 -all'
expect tree-draft-provider 0 'include:spf\.mtasv\.net +1 +1 +0 +1  Postmark$' -- tree --offline --domain draft.example.com --record 'v=spf1 include:spf.mtasv.net -all' --record 'spf.mtasv.net=v=spf1 ip4:192.0.2.1 -all'

# the provider list: the names come from it and from nowhere else
expect providers-named 0 'include:_spf\.google\.com .*Google Workspace$' -- tree "${z[@]}" small.example.com
printf '# mine\n\n  _spf.google.com.   My Google  \r\nrelay.example.net\tThe Relay\n' >"$tmp/mine.txt"
expect providers-option 0 'include:_spf\.google\.com .*  My Google$' -- tree "${z[@]}" --providers "$tmp/mine.txt" small.example.com
expect providers-option-tab 0 'include:relay\.example\.net .*  The Relay$' -- tree "${z[@]}" --providers "$tmp/mine.txt" small.example.com
SPFCHECK_PROVIDERS=$tmp/mine.txt expect providers-env 0 'RELAY|The Relay$' -- tree "${z[@]}" small.example.com
"$bin" tree "${z[@]}" --providers "$tmp/mine.txt" small.example.com >"$tmp/out"
if grep -q 'Google Workspace' "$tmp/out"; then bad providers-only-the-file "the installed names were used"; else ok providers-only-the-file; fi
# no list at all (not installed, no override): no names, no error
env -u SPFCHECK_PROVIDERS "$bin" tree "${z[@]}" small.example.com >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ -f /usr/share/spfcheck/providers.txt ] || [ -f /usr/local/share/spfcheck/providers.txt ]; then
  ok "providers-not-installed (skipped: a list is installed)"
elif [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && ! grep -q 'Google' "$tmp/out"; then ok providers-not-installed
else bad providers-not-installed "exit $rc"; sed 's/^/  | /' "$tmp/out" "$tmp/err"; fi
# a named list that is missing is an error
expect providers-missing 64 'cannot read the provider list .*nosuch\.txt' --stderr -- tree "${z[@]}" --providers "$tmp/nosuch.txt" small.example.com
SPFCHECK_PROVIDERS=$tmp/nosuch.txt expect providers-env-missing 64 'cannot read the provider list' --stderr -- tree "${z[@]}" small.example.com
# bad lines: one line naming FILE:LINE and what is wrong
badline() {
  local name=$1 text=$2 re=$3
  printf '%b' "$text" >"$tmp/bad.txt"
  expect "$name" 64 "^spfcheck: .*bad\.txt:$re" --stderr -- tree "${z[@]}" --providers "$tmp/bad.txt" small.example.com
}
badline providers-no-name 'ok.example.com Fine\nlonely.example.com\n' '2: no display name after .lonely\.example\.com.'
badline providers-bad-domain '# c\n\nexa!mple.com Name\n' "3: 'exa!mple\\.com' is not a domain name"
badline providers-empty-label 'a..example.com Name\n' "1: 'a\.\.example\.com' is not a domain name"
badline providers-twice 'sendgrid.net SendGrid\nSENDGRID.NET. Again\n' '2: SENDGRID\.NET is listed twice'
badline providers-control 'x.example.com Na\001me\n' '1: control byte 0x01 at column 17'
badline providers-long-line "x.example.com $(printf 'N%.0s' $(seq 600))\n" '1: line longer than 512 bytes'
printf 'x.example.com A\0B\n' >"$tmp/bad.txt"
expect providers-nul 64 'bad\.txt: a NUL byte' --stderr -- tree "${z[@]}" --providers "$tmp/bad.txt" small.example.com
# the list in the source tree parses, and names the providers of the issue
for p in _spf.google.com spf.protection.outlook.com amazonses.com sendgrid.net servers.mcsv.net spf.mandrillapp.com _spf.salesforce.com mail.zendesk.com; do
  if grep -Eq "^$p[[:space:]]+[A-Z]" "$list"; then ok "providers-list-has-$p"; else bad "providers-list-has-$p" "not in $list"; fi
done
expect providers-list-parses 0 'own' -- tree --offline --providers "$list" --record 'v=spf1 -all'

# --networks: listed, and the same exit statuses for no record / bad input
expect networks-listed 0 '^fail: 1 network, 1 IPv4 and 0 IPv6 addresses$' -- tree "${z[@]}" --networks small.example.com
expect networks-default 0 '^every other address: fail \(-all\)$' -- tree "${z[@]}" --networks small.example.com
expect networks-through 0 '^  198\.51\.100\.128/25 +ip4:198\.51\.100\.128/25  via include:_spf\.google\.com > include:_netblocks3\.google\.com$' -- tree "${z[@]}" --networks small.example.com
expect networks-redirect 0 '^  192\.0\.2\.2/32 +-ip4:192\.0\.2\.2  via redirect=_spf\.redir\.example\.com$' -- tree "${z[@]}" --networks redir.example.com
expect networks-error 0 'include:broken\.example\.com  via redirect=_spf\.redir\.example\.com  there is no SPF record there: permerror' -- tree "${z[@]}" --networks redir.example.com
expect networks-no-all 0 'every other address: neutral \(no all and no redirect' -- tree "${z[@]}" --networks --record 'v=spf1 ip4:192.0.2.0/24'
expect networks-none 2 'no SPF record' -- tree "${z[@]}" --networks nosuch.example.com
expect networks-json 0 '"schema": 1' -- tree "${z[@]}" --networks --json small.example.com

# --ip: the term, through which includes, and the exit status per case
expect ip-pass 0 '^198\.51\.100\.7: pass, by ip4:198\.51\.100\.0/26  via include:_spf\.google\.com > include:_netblocks\.google\.com \(198\.51\.100\.0/26\)$' -- tree "${z[@]}" small.example.com --ip 198.51.100.7
expect ip-fail 1 '^192\.0\.2\.66: fail, by -ip4:192\.0\.2\.66 ' -- tree "${z[@]}" small.example.com --ip 192.0.2.66
expect ip-neutral 3 'neutral, by ip4:192\.0\.2\.200/29  via \?include:relay\.example\.net' -- tree "${z[@]}" small.example.com --ip 192.0.2.201
expect ip-ipv6-mx 0 'pass, by mx \(2001:db8:5::10/128\)' -- tree "${z[@]}" small.example.com --ip 2001:db8:5::10
expect ip-no-term 8 '^203\.0\.113\.1: no term matches it; fail by -all$' -- tree "${z[@]}" small.example.com --ip 203.0.113.1
expect ip-no-all 8 'no term matches it; neutral, the default without all' -- tree "${z[@]}" --record 'v=spf1 ip4:192.0.2.0/24' --ip 198.51.100.1
expect ip-limit 5 'permerror, at exists:%\{i\}\._spf\.salesforce\.com  via include:_spf\.salesforce\.com: lookup 11' -- tree "${z[@]}" shop.example.com --ip 192.0.2.7
expect ip-before-limit 0 'pass, by ip4:203\.0\.113\.128/27  via include:sendgrid\.net' -- tree "${z[@]}" shop.example.com --ip 203.0.113.130
expect ip-depends 9 'depends on the message: ptr:relays\.example\.com comes first \(if it matches: pass\); if it does not, permerror, at include:broken\.example\.com' -- tree "${z[@]}" redir.example.com --ip 192.0.2.3
expect ip-first-term 0 'pass, by ip4:192\.0\.2\.1 ' -- tree "${z[@]}" redir.example.com --ip 192.0.2.1
expect ip-bad 64 "^spfcheck: --ip: client address 'bogus'" --stderr -- tree "${z[@]}" small.example.com --ip bogus
expect ip-json 0 '"decided_by": "term"' -- tree "${z[@]}" small.example.com --ip 198.51.100.7 --json
expect ip-json-path 0 '"term": "include:_netblocks\.google\.com"' -- tree "${z[@]}" small.example.com --ip 198.51.100.7 --json

# --ip says what check says: every address of a sample, every domain
# (the result when the terms that depend on the message do not match;
# the zone has no PTR records, so ptr never does)
agree=0; differ=0
for pair in small:198.51.100.7 small:192.0.2.66 small:192.0.2.65 small:192.0.2.201 small:192.0.2.10 \
    small:203.0.113.1 small:2001:db8:5::10 small:2001:db8:4860::1 small:2001:db8:1::1 small:198.51.100.255 \
    shop:192.0.2.25 shop:203.0.113.130 shop:203.0.113.1 shop:198.51.100.1 shop:203.0.113.200 shop:192.0.2.7 \
    shop:2001:db8:a000::1 redir:192.0.2.1 redir:192.0.2.2 redir:192.0.2.3 redir:2001:db8:7::1 redir:2001:db8:8::1; do
  d=${pair%%:*}.example.com ip=${pair#*:}
  want=$("$bin" check "${z[@]}" "$ip" "postmaster@$d" | cut -d' ' -f1)
  got=$("$bin" tree "${z[@]}" "$d" --ip "$ip" --json | grep -m1 '"result"' | sed -E 's/.*"result": "([a-z]+)".*/\1/')
  if [ "$want" = "$got" ]; then agree=$((agree + 1)); else differ=$((differ + 1)); echo "  | $d $ip: check $want, tree --ip $got"; fi
done
if [ "$differ" -eq 0 ] && [ "$agree" -eq 22 ]; then ok "ip-agrees-with-check ($agree addresses)"; else bad ip-agrees-with-check "$differ of $((agree + differ)) differ"; fi

# --json: schema and the provider
expect tree-json-schema 1 '"schema": 1' -- tree "${z[@]}" --json shop.example.com
expect tree-json-provider 1 '"provider": "Salesforce"' -- tree "${z[@]}" --json shop.example.com

echo "tree: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
