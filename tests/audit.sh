#!/usr/bin/env bash
# audit.sh - command-line tests of spfcheck audit (issue 16): 240
# generated domains (tests/audit-gen.py writes their zone, the input with
# comments, blank lines and lines that are not domains, and the CSV each
# must give) audited from the in-memory zone and over the loopback DNS
# fixture, against that CSV; the same at concurrency 1 and 500 (input
# order either way); the table and JSON lines; exit statuses (0, 1 with
# --strict, 2, 64); stdin; an unreadable file; progress only on a terminal.
# usage: audit.sh SPFCHECK DNSFIXTURE
set -u
export LC_ALL=C.UTF-8
bin=$1
fixture=$2
here=$(dirname "$0")
. "$here/expect.sh"
# shellcheck source=tests/wait.sh
. "$here/wait.sh"

python3 "$here/audit-gen.py" 240 "$tmp" || { echo "audit: the generator failed"; exit 1; }
z=(--offline --zone "$tmp/audit.zone")

# csv NAME STATUS ARGS...: the CSV equals the generator's, exit STATUS
csv() {
  local name=$1 want=$2
  shift 2
  "$bin" audit --csv "$@" >"$tmp/got.csv" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then bad "$name" "exit $got, want $want"; sed 's/^/  | /' "$tmp/err"; return; fi
  if ! diff -u "$tmp/expected.csv" "$tmp/got.csv" >"$tmp/diff"; then
    bad "$name" "the CSV differs from the expected one"; head -20 "$tmp/diff" | sed 's/^/  | /'; return
  fi
  ok "$name"
}

# 240 domains and 5 lines that are not domains: exit 64, every line in order
csv csv-zone 64 "${z[@]}" "$tmp/domains.txt"
if grep -q '^audit: 240 domains: 96 clean, 48 with warnings, 96 with errors; 5 lines not domains;' "$tmp/err"; then
  ok summary; else bad summary "$(cat "$tmp/err")"; fi
csv csv-stdin 64 "${z[@]}" <"$tmp/domains.txt"
csv csv-dash 64 "${z[@]}" - <"$tmp/domains.txt"
csv csv-concurrency-1 64 "${z[@]}" --concurrency 1 "$tmp/domains.txt"
csv csv-concurrency-500 64 "${z[@]}" --concurrency 500 "$tmp/domains.txt"

# the same over the wire: the fixture DNS server on loopback serves the
# zone; every domain's lookups go through c-ares, many in flight
mkfifo "$tmp/fix.in"
"$fixture" --zone "$tmp/audit.zone" --max-seconds 120 <"$tmp/fix.in" >"$tmp/fix.out" 2>"$tmp/fix.err" &
fixpid=$!
exec 8>"$tmp/fix.in"
wait_lines 1 '^PORT' "$tmp/fix.out"
port=$(awk '/^PORT/ {print $2}' "$tmp/fix.out")
if [ -n "$port" ]; then
  csv csv-wire 64 --nameserver "127.0.0.1:$port" --timeout 2000 "$tmp/domains.txt"
else
  bad csv-wire "the DNS fixture did not start: $(cat "$tmp/fix.err")"
fi
exec 8>&-
wait "$fixpid"

# exit statuses: the clean kinds alone 0; with warnings 0, 1 with
# --strict; with errors 2
grep -iE '^d[0-9]*(0|1|5|8)\.example$|^mail\.' "$tmp/domains.txt" >"$tmp/clean.txt"
expect exit-clean 0 '^d000.example +ok' -- audit "${z[@]}" --strict "$tmp/clean.txt"
grep -E '^d[0-9]*3\.example$' "$tmp/domains.txt" >"$tmp/warn.txt"
expect exit-warnings 0 'DM-21' -- audit "${z[@]}" "$tmp/warn.txt"
expect exit-strict 1 'DM-21' -- audit "${z[@]}" --strict "$tmp/warn.txt"
grep -E '^d[0-9]*4\.example$' "$tmp/domains.txt" >"$tmp/err.txt"
expect exit-errors 2 'L-LOOKUPS' -- audit "${z[@]}" "$tmp/err.txt"

# the table: a header, then a line per input line in order; a bad line
# says why in its place
expect table-header 64 '^DOMAIN +SPF +REC LOOKUPS VOID ERR WARN  DMARC +POLICY +T RUA ERR WARN  SPF-ALIGN  RULES$' -- audit "${z[@]}" "$tmp/domains.txt"
expect table-bad-line 64 "^not-a-domain-40! +error: not a domain name: letters" -- audit "${z[@]}" "$tmp/domains.txt"
expect table-row 64 '^d004.example +ok +12 +11 +0 +1 +0  author  reject +n yes +0 +0  yes +L-LOOKUPS$' -- audit "${z[@]}" "$tmp/domains.txt"
expect table-providers 64 '^d001.example +ok +2 +1 +0 +0 +0  author  quarantine y yes +0 +0  providers +-$' -- audit "${z[@]}" "$tmp/domains.txt"
if [ "$(wc -l <"$tmp/out")" -eq 246 ]; then ok table-lines; else bad table-lines "$(wc -l <"$tmp/out") lines"; fi

# JSON lines: one object per line, schema 1, in input order, findings
"$bin" audit "${z[@]}" --json "$tmp/domains.txt" >"$tmp/j" 2>/dev/null
if python3 - "$tmp/j" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert len(objs) == 245, len(objs)
assert all(o["schema"] == 1 for o in objs)
lines = [o["line"] for o in objs]
assert lines == sorted(lines), "not in input order"
bad = [o for o in objs if "error" in o]
assert len(bad) == 5 and bad[0]["input"] == "not-a-domain-40!", bad[0]
d = {o["domain"]: o for o in objs if "domain" in o}
assert d["d000.example"]["dmarc"]["policy"] == "reject"
assert d["d001.example"]["spf"]["align"] == "providers"
assert d["d001.example"]["spf"]["provider"] == "_spf.provider.test"
assert d["d001.example"]["dmarc"]["testing"] is True
assert d["d004.example"]["spf"]["lookups"] == 11
f = [x for x in d["d004.example"]["spf"]["findings"] if x["rule"] == "L-LOOKUPS"]
assert f and f[0]["severity"] == "error", f
assert d["d002.example"]["dmarc"]["where"] == "none"
assert d["d002.example"]["dmarc"]["findings"][0]["rule"] == "DM-01"
assert d["mail.o005.example"]["dmarc"]["record_domain"] == "o005.example"
assert d["mail.o005.example"]["dmarc"]["policy_tag"] == "sp"
PY
then ok json-lines; else bad json-lines "$(head -c 600 "$tmp/j")"; fi

# bad usage and bad input: one line on stderr, exit 64
expect unreadable 64 '^spfcheck: cannot read /nonexistent/domains.txt: No such file or directory$' --stderr -- audit "${z[@]}" /nonexistent/domains.txt
expect csv-and-json 64 'exclude each other' --stderr -- audit "${z[@]}" --csv --json "$tmp/domains.txt"
expect two-files 64 "unexpected argument 'b'" --stderr -- audit "${z[@]}" a b
expect bad-concurrency 64 'concurrency must be a number' --stderr -- audit "${z[@]}" --concurrency 0 "$tmp/domains.txt"
expect no-deadline 64 'deadline' --stderr -- audit "${z[@]}" --deadline 100 "$tmp/domains.txt"
printf 'ok.example\n%s\n' "$(head -c 2000 /dev/zero | tr '\0' a)" >"$tmp/long.txt"
expect long-line 64 'longer than 1024' -- audit "${z[@]}" "$tmp/long.txt"

# progress on stderr only when it is a terminal (script(1) gives one)
if command -v script >/dev/null; then
  script -qec "'$bin' audit ${z[*]} '$tmp/domains.txt' >'$tmp/pout'" "$tmp/tty" >/dev/null 2>&1
  if grep -q $'\r' "$tmp/tty" && grep -q 'audit: 240 domains:' "$tmp/tty" &&
     [ "$(wc -l <"$tmp/pout")" -eq 246 ] && ! grep -q $'\r' "$tmp/pout"; then
    ok progress-tty; else bad progress-tty "$(cat -A "$tmp/tty" | head -5)"; fi
  "$bin" audit "${z[@]}" "$tmp/domains.txt" 2>"$tmp/perr" >/dev/null
  if ! grep -q $'\r' "$tmp/perr" && [ "$(wc -l <"$tmp/perr")" -eq 1 ]; then
    ok progress-not-tty; else bad progress-not-tty "$(cat -A "$tmp/perr" | head -3)"; fi
fi

# --org-domain and --psl-file (the tests' own list, never the system's):
# without either no list is read and the rules that compare with it do
# not run; with --psl-file they do (DM-13, DM-14, DM-15, DM-17, DM-14 for
# brand.example's SPF domain _spf.mail.brand.example); --org-domain psl
# also changes the record that applies (mail.shop.co.example: shop's
# quarantine, not co.example's reject) and gives other.co.example none
# (DM-01, which only the psl method fires)
td=$here/../testdata
zp=(--offline --zone "$td/demo.zone" --zone "$td/dmarc.zone")
# csvfile NAME STATUS EXPECTED ARGS...: the CSV equals EXPECTED
csvfile() {
  local name=$1 want=$2 exp=$3
  shift 3
  "$bin" audit --csv "$@" >"$tmp/got.csv" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then bad "$name" "exit $got, want $want"; sed 's/^/  | /' "$tmp/err"; return; fi
  if ! diff -u "$exp" "$tmp/got.csv" >"$tmp/diff"; then
    bad "$name" "the CSV differs from $exp"; head -20 "$tmp/diff" | sed 's/^/  | /'; return
  fi
  ok "$name"
}
csvfile psl-none 2 "$td/audit-psl-none.csv" "${zp[@]}" "$td/audit-psl.txt"
csvfile psl-walk 2 "$td/audit-psl-walk.csv" "${zp[@]}" --psl-file "$td/test.psl" "$td/audit-psl.txt"
csvfile psl-walk-explicit 2 "$td/audit-psl-walk.csv" "${zp[@]}" --org-domain walk --psl-file "$td/test.psl" "$td/audit-psl.txt"
csvfile psl-psl 2 "$td/audit-psl-psl.csv" "${zp[@]}" --org-domain psl --psl-file "$td/test.psl" "$td/audit-psl.txt"
csvfile psl-psl-serial 2 "$td/audit-psl-psl.csv" "${zp[@]}" --org-domain psl --psl-file "$td/test.psl" --concurrency 1 "$td/audit-psl.txt"
if ! grep -q 'DM-1[3457]' "$td/audit-psl-none.csv" && grep -q '^other.co.example,.*DM-01' "$td/audit-psl-psl.csv" &&
   ! grep -q 'DM-01' "$td/audit-psl-walk.csv"; then ok psl-rules-only-with-list
else bad psl-rules-only-with-list "the expected CSVs do not show it"; fi
expect psl-spf-domain 2 '^brand.example +ok .* DM-14$' -- audit "${zp[@]}" --psl-file "$td/test.psl" "$td/audit-psl.txt"
# --json names the method and the list
"$bin" audit "${zp[@]}" --json --org-domain psl --psl-file "$td/test.psl" "$td/audit-psl.txt" >"$tmp/j" 2>/dev/null
"$bin" audit "${zp[@]}" --json "$td/audit-psl.txt" >"$tmp/j0" 2>/dev/null
if python3 - "$tmp/j" "$tmp/j0" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
none = [json.loads(l) for l in open(sys.argv[2])]
d = {o["domain"]: o for o in objs}
assert all(o["dmarc"]["org_domain_method"] == "psl" for o in objs)
assert all(o["dmarc"]["psl"].endswith("/test.psl") for o in objs), objs[0]["dmarc"]["psl"]
assert all(o["dmarc"]["org_domain_method"] == "walk" and o["dmarc"]["psl"] is None for o in none)
f = [x for x in d["brand.example"]["dmarc"]["findings"] if x["rule"] == "DM-14"]
assert len(f) == 1 and f[0]["domain"] == "_spf.mail.brand.example", f
assert d["mail.shop.co.example"]["dmarc"]["org_domain"] == "shop.co.example"
PY
then ok psl-json; else bad psl-json "$(head -c 600 "$tmp/j")"; fi
expect psl-bad-method 64 "^spfcheck: --org-domain: 'tree' is not walk or psl$" --stderr -- audit "${zp[@]}" --org-domain tree "$td/audit-psl.txt"
expect psl-bad-file 64 "^spfcheck: --psl-file: cannot read a Public Suffix List from '$tmp/none.psl'$" --stderr -- audit "${zp[@]}" --psl-file "$tmp/none.psl" "$td/audit-psl.txt"
if [ ! -s "$tmp/out" ]; then ok psl-bad-file-no-output; else bad psl-bad-file-no-output "$(cat "$tmp/out")"; fi

echo "audit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
