#!/usr/bin/env bash
# dmarc.sh - command-line tests of DMARC (issue 16): spfcheck dmarc (every
# lint rule it can see on zone data, exit statuses as lint's, --json,
# drafts, bad input) and check --from / --dkim-domain.  No network: every
# case uses --offline with testdata/demo.zone and testdata/dmarc.zone.
# usage: dmarc.sh SPFCHECK TESTDATA_DIR
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
td=$2
. "$(dirname "$0")/expect.sh"

# the tests' own Public Suffix List, never the system's
z=(--offline --zone "$td/demo.zone" --zone "$td/dmarc.zone" --psl-file "$td/test.psl")

# spfcheck dmarc: exit statuses (0 clean or warnings, 1 --strict warnings, 2 errors)
expect dmarc-clean 0 'good.example: 0 errors, 0 warnings, 0 notes' -- dmarc "${z[@]}" good.example
expect dmarc-clean-strict 0 '0 errors, 0 warnings' -- dmarc "${z[@]}" --strict good.example
expect dmarc-warnings 0 'messy.example: 0 errors, 6 warnings, 7 notes' -- dmarc "${z[@]}" messy.example
expect dmarc-strict 1 'warning\[DM-06\]' -- dmarc "${z[@]}" --strict messy.example
expect dmarc-errors 2 'error\[DM-03\]' -- dmarc "${z[@]}" twice.example
# the rules, each on its own zone case
expect dm-01 0 'warning\[DM-01\] _dmarc.nosuch.example: no DMARC record' -- dmarc "${z[@]}" nosuch.example
expect dm-02 2 "error\[DM-02\]: the version is 'dmarc1'" -- dmarc "${z[@]}" typo.example
expect dm-02-space 2 'error\[DM-02\]: the record begins with whitespace' -- dmarc --offline --psl-file "$td/test.psl" --record ' v=DMARC1; p=reject'
expect dm-03 2 'error\[DM-03\] _dmarc.twice.example: 2 DMARC records at one name' -- dmarc "${z[@]}" twice.example
expect dm-04 2 'error\[DM-04\]: an invalid p, sp or np makes receivers act as if the record said p=none' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=reject; sp=rejct; rua=mailto:a@draft.invalid'
expect dm-04-off 2 'no valid rua URI: receivers apply no DMARC at all' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=bogus'
expect dm-05 0 'warning\[DM-05\]: aspf=x is not r or s' -- dmarc "${z[@]}" messy.example
expect dm-06 0 "warning\[DM-06\]: unknown tag 'rue' is ignored \(did you mean rua\?\)" -- dmarc "${z[@]}" messy.example
expect dm-06-case 0 "warning\[DM-06\]: tag name 'P' in upper case" -- dmarc "${z[@]}" messy.example
expect dm-07 0 'info\[DM-07\]: ri is ignored since RFC 9989 removed it' -- dmarc "${z[@]}" messy.example
expect dm-07-pct 0 'warning\[DM-07\]: pct=50' -- dmarc "${z[@]}" messy.example
expect dm-08 0 'warning\[DM-08\]: pct=0 without t=y' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=reject; pct=0'
expect dm-09 0 'info\[DM-09\]: t=y has no effect with p=none' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=none; t=y'
expect dm-10 0 "info\[DM-10\]: the size limit '!10m' is obsolete" -- dmarc "${z[@]}" messy.example
expect dm-11 0 'warning\[DM-11\] _dmarc.reports.example: reports to mailto:b@silent.example.net' -- dmarc "${z[@]}" reports.example
"$bin" dmarc "${z[@]}" reports.example >"$tmp/out" 2>&1
if grep 'DM-11' "$tmp/out" | grep -q agreed.example.net; then bad dm-11-agreed "$(cat "$tmp/out")"; else ok dm-11-agreed; fi
expect dm-12 0 'info\[DM-12\] _dmarc.draft.giant.bank.example: sp and np are read only' -- dmarc "${z[@]}" --domain draft.giant.bank.example --record 'v=DMARC1; p=reject; sp=reject'
expect dm-13 0 'warning\[DM-13\]: psd=y with ruf' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=reject; psd=y; ruf=mailto:f@draft.invalid'
expect dm-13-psl 0 'warning\[DM-13\] _dmarc.fake.example: psd=y, but fake.example is not a public suffix on the Public Suffix List \(.*test.psl\)' -- dmarc "${z[@]}" x.fake.example
expect dm-13-listed 0 'mail.giant.bank.example: 0 errors, 0 warnings, 1 note' -- dmarc "${z[@]}" mail.giant.bank.example
expect dm-14 0 'warning\[DM-14\] mail.shop.co.example: the DNS Tree Walk \(RFC 9989\) and the Public Suffix List \(RFC 7489\) disagree for mail.shop.co.example: the walk gives the Organizational Domain co.example and the policy record _dmarc.co.example, the PSL shop.co.example and _dmarc.shop.co.example' -- dmarc "${z[@]}" mail.shop.co.example
expect dm-14-psl 0 'warning\[DM-14\] mail.shop.co.example: the DNS Tree Walk' -- dmarc "${z[@]}" --org-domain psl mail.shop.co.example
expect dm-14-agree 0 'example.com: 0 errors, 0 warnings, 0 notes' -- dmarc "${z[@]}" example.com
# DM-14 for an SPF domain: brand.example's include _spf.mail.brand.example
# is below mail.brand.example's psd=n record (an Organizational Domain of
# its own by the walk, brand.example's by the PSL)
expect dm-14-spf 0 'warning\[DM-14\] _spf.mail.brand.example: the DNS Tree Walk \(RFC 9989\) and the Public Suffix List \(RFC 7489\) disagree whether _spf.mail.brand.example, an SPF domain of brand.example, aligns with it: by the walk their Organizational Domains are mail.brand.example and brand.example, by the PSL brand.example and brand.example; .* only at RFC 7489 receivers' -- dmarc "${z[@]}" brand.example
expect dm-14-spf-psl 0 'warning\[DM-14\] _spf.mail.brand.example: ' -- dmarc "${z[@]}" --org-domain psl brand.example
expect dm-14-spf-count 0 '^brand.example: 0 errors, 1 warning, 0 notes$' -- dmarc "${z[@]}" brand.example
expect dm-14-spf-own 0 'selfsend.example: 0 errors, 0 warnings, 0 notes' -- dmarc "${z[@]}" selfsend.example
expect dm-14-spf-json 0 '"domain": "_spf.mail.brand.example"' -- dmarc "${z[@]}" --json brand.example
# the list the PSL rules used, in the text and the JSON: the file given,
# else the system's list or libpsl's own (which one depends on the machine)
expect psl-source-file 0 "^  Public Suffix List \(DM-13, DM-14, DM-15, DM-17\): $td/test.psl\$" -- dmarc "${z[@]}" good.example
expect psl-source-file-json 0 "^  \"psl\": \"$td/test.psl\",\$" -- dmarc "${z[@]}" --json good.example
zs=(--offline --zone "$td/demo.zone" --zone "$td/dmarc.zone")
expect psl-source-system 0 '^  Public Suffix List \(DM-13, DM-14, DM-15, DM-17\): (system list \(/.+\)|libpsl builtin)$' -- dmarc "${zs[@]}" good.example
expect psl-source-system-json 0 '^  "psl": "(system list \(/.+\)|libpsl builtin)",$' -- dmarc "${zs[@]}" --json good.example
expect psl-source-psl 0 '^  Public Suffix List \(DM-13, DM-14, DM-15, DM-17\): (system list \(/.+\)|libpsl builtin)$' -- dmarc "${zs[@]}" --org-domain psl good.example
expect dm-15 0 'warning\[DM-15\] _dmarc.co.example: co.example is a public suffix \(on the Public Suffix List\) and publishes a record without psd=y: the walk from mail.shop.co.example goes on to it, and co.example, not shop.co.example, becomes the Organizational Domain; publish psd=n in _dmarc.shop.co.example' -- dmarc "${z[@]}" mail.shop.co.example
expect dm-16 0 'warning\[DM-16\] _dmarc.c.d.e.f.g.h.deep.example: a DMARC record here is never used for a.b.c.d.e.f.g.h.deep.example' -- dmarc "${z[@]}" a.b.c.d.e.f.g.h.deep.example
expect dm-16-own 0 'c.d.e.f.g.h.deep.example: 0 errors, 0 warnings, 0 notes' -- dmarc "${z[@]}" c.d.e.f.g.h.deep.example
expect dm-17 0 'warning\[DM-17\] _dmarc.solo.example: team.solo.example has a DMARC record of its own, but solo.example, its registrable domain on the Public Suffix List, has none' -- dmarc "${z[@]}" team.solo.example
expect dm-17-strict 1 'team.solo.example: 0 errors, 2 warnings, 0 notes' -- dmarc "${z[@]}" --strict team.solo.example
# --org-domain psl: RFC 7489's discovery, said in the text and the JSON
expect dmarc-org-psl 0 "^mail.shop.co.example: RFC 7489's method \(--org-domain psl, the Public Suffix List .*test.psl\), 2 of at most 2 queries:" -- dmarc "${z[@]}" --org-domain psl mail.shop.co.example
expect dmarc-org-psl-policy 0 '^  policy record: _dmarc.shop.co.example \(organizational domain\)$' -- dmarc "${z[@]}" --org-domain psl mail.shop.co.example
expect dmarc-org-walk 0 '^  policy record: _dmarc.co.example \(organizational domain\)$' -- dmarc "${z[@]}" --org-domain walk mail.shop.co.example
expect dmarc-org-json 0 '"org_domain_method": "psl"' -- dmarc "${z[@]}" --json --org-domain psl mail.shop.co.example
expect dmarc-org-json-walk 0 '"org_domain_method": "walk"' -- dmarc "${z[@]}" --json mail.shop.co.example
expect dmarc-org-bad 64 "^spfcheck: --org-domain: 'dns' is not walk or psl$" --stderr -- dmarc "${z[@]}" --org-domain dns good.example
expect dmarc-psl-bad 64 "^spfcheck: --psl-file: cannot read a Public Suffix List from '$tmp/none.psl'$" --stderr -- dmarc --offline --psl-file "$tmp/none.psl" good.example
printf '// comments only\n' >"$tmp/empty.psl"
expect dmarc-psl-empty 64 "^spfcheck: --psl-file: cannot read a Public Suffix List" --stderr -- dmarc --offline --psl-file "$tmp/empty.psl" good.example
expect dm-18 0 'warning\[DM-18\] messy.example: a DMARC record in the TXT of messy.example itself' -- dmarc "${z[@]}" messy.example
expect dm-18-other 0 'info\[DM-18\] _dmarc.messy.example: TXT data that is not a DMARC record' -- dmarc "${z[@]}" messy.example
expect dm-19 0 'info\[DM-19\]: sp=none is weaker than p=reject' -- dmarc "${z[@]}" messy.example
expect dm-21 0 'warning\[DM-21\]: p=none asks for reports only' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=none'
expect dm-22 2 'error\[DM-22\]: rua has an empty value' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=reject; rua='
expect dm-23 0 'warning\[DM-23\]: p is given twice' -- dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=reject; p=none'
expect dm-24 0 "warning\[DM-24\] relayed.example: every term of relayed.example's SPF record that can pass is in another organisation's record \(_spf.esp.example.net\)" -- dmarc "${z[@]}" relayed.example
expect dm-24-strict 1 'relayed.example: 0 errors, 1 warning, 0 notes' -- dmarc "${z[@]}" --strict relayed.example
expect dm-24-own 0 'selfsend.example: 0 errors, 0 warnings, 0 notes' -- dmarc "${z[@]}" selfsend.example
expect dm-24-never 0 "info\[DM-24\] parked.example: parked.example's SPF record passes no address" -- dmarc "${z[@]}" parked.example
expect dm-24-json 0 '"spf_align": "providers"' -- dmarc "${z[@]}" --json relayed.example
# where the policy was found on the walk
expect dmarc-walk-psd 0 'Organizational Domain: giant.bank.example \(one label below a public suffix' -- dmarc "${z[@]}" mail.giant.bank.example
expect dmarc-walk-org 0 'policy for mail.giant.bank.example: sp=reject, applied as quarantine \(t=y\)' -- dmarc "${z[@]}" mail.giant.bank.example
expect dmarc-walk-8 0 '8 of at most 8 queries' -- dmarc "${z[@]}" a.b.c.d.e.f.g.h.i.j.mail.example.com
# positions: the caret under the bytes
"$bin" dmarc --offline --psl-file "$td/test.psl" --record 'v=DMARC1; p=reject; aspf=x' >"$tmp/out" 2>&1
if grep -q '^_dmarc.draft.invalid: v=DMARC1; p=reject; aspf=x$' "$tmp/out" &&
   grep -Eq '^ {47}\^$' "$tmp/out"; then ok dmarc-caret
else bad dmarc-caret "$(cat "$tmp/out")"; fi
# JSON
expect dmarc-json 2 '"schema": 1' -- dmarc "${z[@]}" --json twice.example
expect dmarc-json-rule 2 '"rule": "DM-03"' -- dmarc "${z[@]}" --json twice.example
# bad input
expect dmarc-no-args 64 'dmarc needs DOMAIN' --stderr -- dmarc --offline
expect dmarc-bad-domain 64 'is not a domain name' --stderr -- dmarc --offline --psl-file "$td/test.psl" 'a b'
expect dmarc-two-domains 64 'dmarc takes one DOMAIN' --stderr -- dmarc --offline --psl-file "$td/test.psl" a.example b.example
expect dmarc-no-void-limit 64 '^spfcheck: --void-limit does not apply to spfcheck dmarc' --stderr -- dmarc --offline --psl-file "$td/test.psl" --void-limit 3 a.example
expect dmarc-bad-zone 64 'cannot load zone file' --stderr -- dmarc --offline --psl-file "$td/test.psl" --zone "$tmp/none.zone" a.example
expect dmarc-help 0 'usage: spfcheck dmarc' -- dmarc --help

# check --from: the DMARC view of the SPF leg
expect from-pass 0 '^dmarc: result pass$' -- check "${z[@]}" --from 'Alice <alice@example.com>' 192.0.2.25 bounce@example.com
expect from-aligned 0 '^dmarc: SPF pass for example.com: aligned \(aspf=r, relaxed\)' -- check "${z[@]}" --from example.com 192.0.2.25 bounce@example.com
expect from-no-dkim 1 '^dmarc: DKIM not evaluated' -- check "${z[@]}" --from example.com 192.0.2.99 bounce@example.com
expect from-policy 1 '^dmarc: if DKIM does not align, the policy is: quarantine \(p\)$' -- check "${z[@]}" --from example.com 192.0.2.99 bounce@example.com
expect from-dkim-pass 1 '^dmarc: result pass$' -- check "${z[@]}" --from example.com --dkim-domain mail.example.com 192.0.2.99 bounce@example.com
expect from-dkim-fail 1 '^dmarc: result fail: policy quarantine applies$' -- check "${z[@]}" --from example.com --dkim-domain example.net 192.0.2.99 bounce@example.com
expect from-unaligned 0 'SPF pass for giant.bank.example: not aligned' -- check "${z[@]}" --from x@example.com 192.0.2.80 x@giant.bank.example
expect from-psd-org 0 'From mail.giant.bank.example -> giant.bank.example' -- check "${z[@]}" --from mail.giant.bank.example 192.0.2.80 x@giant.bank.example
expect from-none 0 '^dmarc: no DMARC record for nosuch.example' -- check "${z[@]}" --from nosuch.example 192.0.2.25 a@example.com
expect from-json 0 '"aligned": true' -- check "${z[@]}" --json --from example.com 192.0.2.25 a@example.com
expect from-no-domain 64 '^spfcheck: --from has no domain' --stderr -- check "${z[@]}" --from 'x@' 192.0.2.25 a@example.com
expect from-bad-domain 64 "^spfcheck: --from: 'a b' is not a domain name" --stderr -- check "${z[@]}" --from 'x@a b' 192.0.2.25 a@example.com
expect dkim-without-from 64 '^spfcheck: --dkim-domain needs --from' --stderr -- check "${z[@]}" --dkim-domain a.example 192.0.2.25 a@example.com

# --org-domain walk|psl: co.example is on the tests' list (testdata/test.psl)
# and publishes a record of its own, so the walk and the PSL disagree
psl=(--psl-file "$td/test.psl")
expect org-walk 0 'From mail.shop.co.example -> co.example, SPF other.co.example -> co.example \(the DNS Tree Walk, RFC 9989\)' -- check "${z[@]}" "${psl[@]}" --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-walk-pass 0 '^dmarc: result pass$' -- check "${z[@]}" "${psl[@]}" --org-domain walk --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-walk-policy 0 '^dmarc: policy record _dmarc.co.example \(organizational domain\)' -- check "${z[@]}" "${psl[@]}" --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-psl 0 'From mail.shop.co.example -> shop.co.example, SPF other.co.example -> other.co.example \(--org-domain psl: the Public Suffix List, RFC 7489\)' -- check "${z[@]}" "${psl[@]}" --org-domain psl --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-psl-unaligned 0 '^dmarc: SPF pass for other.co.example: not aligned' -- check "${z[@]}" "${psl[@]}" --org-domain psl --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-psl-policy 0 '^dmarc: policy record _dmarc.shop.co.example \(organizational domain\)' -- check "${z[@]}" "${psl[@]}" --org-domain psl --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-psl-json 0 '"org_domain_method": "psl"' -- check "${z[@]}" "${psl[@]}" --json --org-domain psl --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-walk-json 0 '"org_domain_method": "walk"' -- check "${z[@]}" "${psl[@]}" --json --from mail.shop.co.example 192.0.2.81 x@other.co.example
expect org-psl-json-rule 0 '"organizational_domain_rule": "psl"' -- check "${z[@]}" "${psl[@]}" --json --org-domain psl --from mail.shop.co.example 192.0.2.81 x@other.co.example
# RFC 7489's discovery: the Author Domain, then its registrable domain only
"$bin" explain "${z[@]}" "${psl[@]}" --org-domain psl --from mail.shop.co.example 192.0.2.81 x@other.co.example >"$tmp/out" 2>&1
sed -n '/^DMARC (RFC 9989) for From mail.shop.co.example$/,$p' "$tmp/out" >"$tmp/sec"
if grep -q "^  policy discovery: RFC 7489's method (--org-domain psl: the Public Suffix List) from mail.shop.co.example$" "$tmp/sec" &&
   grep -q '^    1  _dmarc.mail.shop.co.example  *NXDOMAIN$' "$tmp/sec" &&
   grep -q '^    2  _dmarc.shop.co.example  *v=DMARC1; p=quarantine$' "$tmp/sec" &&
   ! grep -q '^    3  ' "$tmp/sec" &&
   grep -q '^    Organizational Domain: other.co.example (the registrable domain on the Public Suffix List, RFC 7489)$' "$tmp/sec"; then ok explain-org-psl
else bad explain-org-psl "$(cat "$tmp/out")"; fi
expect org-bad 64 "^spfcheck: --org-domain: 'tree' is not walk or psl$" --stderr -- check "${z[@]}" --org-domain tree --from a.example 192.0.2.25 a@example.com
expect org-no-from 64 '^spfcheck: --org-domain needs --from' --stderr -- check "${z[@]}" --org-domain psl 192.0.2.25 a@example.com
expect org-bad-file 64 "^spfcheck: --psl-file: cannot read a Public Suffix List from '$tmp/none.psl'$" --stderr -- explain "${z[@]}" --psl-file "$tmp/none.psl" --org-domain psl --from a.example 192.0.2.25 a@example.com

# explain --from: the same view, with each walk's queries, as a section of
# its own after the SPF tree (checked by itself: the tree is explain's)
"$bin" explain "${z[@]}" --from x@mail.giant.bank.example --dkim-domain mail.mega.bank.example 192.0.2.99 x@giant.bank.example >"$tmp/out" 2>&1
sed -n '/^DMARC (RFC 9989) for From mail.giant.bank.example$/,$p' "$tmp/out" >"$tmp/sec"
if grep -q '^    3  _dmarc.bank.example  *v=DMARC1; p=reject; psd=y; np=reject$' "$tmp/sec" &&
   grep -q "^  the DKIM domain's walk from mail.mega.bank.example$" "$tmp/sec" &&
   grep -q '^  policy: quarantine (sp=reject, lowered by t=y)$' "$tmp/sec" &&
   grep -q '^  result fail: policy quarantine applies$' "$tmp/sec"; then ok explain-from
else bad explain-from "$(cat "$tmp/out")"; fi
expect explain-from-json 0 '"organizational_domain_rule": "below_psd"' -- explain "${z[@]}" --json --from mail.giant.bank.example 192.0.2.80 x@giant.bank.example
expect explain-from-bad 64 '^spfcheck: --from has no domain' --stderr -- explain "${z[@]}" --from '<>' 192.0.2.80 x@giant.bank.example

echo "dmarc: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
