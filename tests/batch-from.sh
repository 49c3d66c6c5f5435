#!/usr/bin/env bash
# batch-from.sh - spfcheck batch's FROM column (issue 16): 240 generated
# lines (tests/batch-from-gen.py writes their zone, the input with
# comments, blank lines and FROM fields without a domain, and the TSV
# each line must give: aligned relaxed and strict, another organisation,
# no DMARC record, np, sp, t=y, the null sender, lines without FROM)
# checked from the in-memory zone at concurrency 1, 64 and 500 and over
# the loopback DNS fixture; --brief and --json (the dmarc object is
# check --from's, key for key); the DNS queries sent when many lines
# share From domains (cache and queries in flight: each name once).
# usage: batch-from.sh SPFCHECK DNSFIXTURE DEMO_ZONE
set -u
export LC_ALL=C.UTF-8
bin=$1
fixture=$2
demo=$3
here=$(dirname "$0")
. "$here/expect.sh"
# shellcheck source=tests/wait.sh
. "$here/wait.sh"

python3 "$here/batch-from-gen.py" 240 "$tmp" || { echo "batch-from: the generator failed"; exit 1; }
z=(--offline --zone "$tmp/from.zone")

# tsv NAME ARGS...: the output equals the generator's, exit 64 (bad lines)
tsv() {
  local name=$1
  shift
  "$bin" batch "$@" >"$tmp/got.tsv" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne 64 ]; then bad "$name" "exit $got, want 64"; sed 's/^/  | /' "$tmp/err"; return; fi
  if ! diff -u "$tmp/from.tsv" "$tmp/got.tsv" >"$tmp/diff"; then
    bad "$name" "the output differs from the expected one"; head -20 "$tmp/diff" | sed 's/^/  | /'; return
  fi
  ok "$name"
}

tsv tsv-zone "${z[@]}" --input "$tmp/from.in"
if grep -Eq '^batch: 245 lines: pass 216, fail 0, softfail 24, neutral 0, none 0, permerror 0, temperror 0, error 5; dmarc 216: pass 72, fail 0, unknown 120, none 24, temperror 0; .* lines/s; DNS [0-9]+ lookups, 0 sent$' "$tmp/err"; then
  ok summary; else bad summary "$(cat "$tmp/err")"; fi
tsv tsv-stdin "${z[@]}" <"$tmp/from.in"
tsv tsv-concurrency-1 "${z[@]}" --concurrency 1 --input "$tmp/from.in"
tsv tsv-concurrency-500 "${z[@]}" --concurrency 500 --input "$tmp/from.in"
# a line with FROM has 11 fields, one without 10, an error line 10
if awk -F'\t' '$4 != "error" && NF != 10 && NF != 11 { exit 1 } $4 == "error" && NF != 10 { exit 1 }' "$tmp/got.tsv"; then
  ok field-count; else bad field-count "$(awk -F'\t' '{print NF}' "$tmp/got.tsv" | sort | uniq -c)"; fi

# --brief: the result word; a tab and the dmarc field with FROM; "error",
# a tab and the reason for a bad line
awk -F'\t' '$4 == "error" { print "error\t" $10; next } NF == 11 { print $4 "\t" $11; next } { print $4 }' \
  "$tmp/from.tsv" >"$tmp/brief.want"
"$bin" batch "${z[@]}" --brief --concurrency 7 --input "$tmp/from.in" >"$tmp/brief.got" 2>/dev/null
if diff -u "$tmp/brief.want" "$tmp/brief.got" >"$tmp/diff"; then ok brief
else bad brief "differs"; head -10 "$tmp/diff" | sed 's/^/  | /'; fi

# --json: one object per line in order; "dmarc" only with FROM, its
# result and applied policy as in the TSV; bad lines in place
"$bin" batch "${z[@]}" --json --input "$tmp/from.in" >"$tmp/j" 2>/dev/null
if python3 - "$tmp/j" "$tmp/from.tsv" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
want = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
assert len(objs) == len(want) == 245, (len(objs), len(want))
for o, w in zip(objs, want):
    assert o["schema"] == 1 and o["line"] == int(w[0]), (o, w)
    if w[3] == "error":
        assert o["error"] == w[9] and "dmarc" not in o, o
        continue
    assert o["result"] == w[3], (o, w)
    if len(w) == 10:
        assert "dmarc" not in o, o
        continue
    d = o["dmarc"]
    f = dict(x.split("=") for x in w[10].split())
    assert d["result"] == f["dmarc"], (d, f)
    assert d["spf"]["aligned"] == (f["aligned"] == "yes"), (d, f)
    assert (d["policy"]["applied"] or "-") == f["policy"], (d, f)
    assert sorted(d) == ["dkim", "from_domain", "org_domain_method", "policy", "result", "spf", "walks"], sorted(d)
    assert d["org_domain_method"] == "walk", d
    assert d["dkim"]["evaluated"] is False
np = [o for o in objs if o.get("dmarc", {}).get("policy", {}).get("tag") == "np"]
assert np and all(o["dmarc"]["policy"]["author_exists"] is False for o in np), np[:1]
strict = [o for o in objs if o.get("dmarc", {}).get("spf", {}).get("mode") == "strict"]
assert strict and all(not o["dmarc"]["spf"]["aligned"] and o["dmarc"]["spf"]["pass"] for o in strict)
PY
then ok json-lines; else bad json-lines "$(head -c 600 "$tmp/j")"; fi

# the dmarc object of a batch line is check --json --from's, key for key
# (the elapsed times aside)
zd=(--offline --zone "$demo" --zone "$(dirname "$demo")/dmarc.zone")
printf '192.0.2.99 bounce@example.com - Alice@Example.COM\n' | "$bin" batch "${zd[@]}" --json >"$tmp/b.json" 2>/dev/null
"$bin" check "${zd[@]}" --json --from Alice@Example.COM 192.0.2.99 bounce@example.com >"$tmp/c.json"
if python3 - "$tmp/b.json" "$tmp/c.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
c = json.load(open(sys.argv[2]))
assert b["dmarc"] == c["dmarc"], (b["dmarc"], c["dmarc"])
assert b["dmarc"]["result"] == "unknown" and b["dmarc"]["policy"]["domain"] == "example.com"
PY
then ok json-as-check; else bad json-as-check "$(cat "$tmp/b.json")"; fi

# bad FROM fields: one error line each in place, the others go on, exit 64
printf '192.0.2.25 alice@example.com - example.com\n192.0.2.25 alice@example.com - nobody@\n192.0.2.25 alice@example.com\n' >"$tmp/bad.in"
expect bad-from-line 64 '^2	192.0.2.25	alice@example.com	error	-	-	-	-	-	the FROM field has no domain \(give ADDRESS or DOMAIN\)$' -- batch "${zd[@]}" --input "$tmp/bad.in"
if [ "$(sed -n 1p "$tmp/out")" = "1	192.0.2.25	alice@example.com	pass	mx	example.com	1	0	-	-	dmarc=pass aligned=yes policy=quarantine" ] &&
   [ "$(sed -n 3p "$tmp/out")" = "3	192.0.2.25	alice@example.com	pass	mx	example.com	1	0	-	-" ]; then
  ok bad-from-neighbours; else bad bad-from-neighbours "$(cat "$tmp/out")"; fi
printf '192.0.2.25 alice@example.com - a@exam!ple.com\n' >"$tmp/bad2.in"
expect bad-from-name 64 "error	.*the FROM field: .*not a domain name" -- batch "${zd[@]}" --input "$tmp/bad2.in"
printf '192.0.2.25 alice@example.com - a@example.com extra\n' >"$tmp/bad3.in"
expect five-fields 64 'too many fields: a line is IP SENDER \[HELO \[FROM\]\]$' -- batch "${zd[@]}" --input "$tmp/bad3.in"
# HELO "-" means none only before a FROM: three fields keep it a name
printf '192.0.2.25 "" -\n' >"$tmp/dash.in"
expect dash-helo-3-fields 0 '^1	192.0.2.25	<>	none	' -- batch "${zd[@]}" --input "$tmp/dash.in"
printf '192.0.2.25 "" - example.com\n' >"$tmp/dash4.in"
expect dash-helo-null-sender 64 'null sender is checked as postmaster@HELO' -- batch "${zd[@]}" --input "$tmp/dash4.in"
# --identity helo: no SPF leg, nothing can align
printf '192.0.2.25 alice@example.com mail.example.com example.com\n' >"$tmp/helo.in"
expect identity-helo 0 '	dmarc=unknown aligned=no policy=quarantine$' -- batch "${zd[@]}" --identity helo --input "$tmp/helo.in"

# --org-domain psl (the tests' own list): co.example is on it and
# publishes a record of its own, so the walk aligns other.co.example with
# mail.shop.co.example under co.example's p=reject, the PSL does not
# (other.co.example and shop.co.example, shop's p=quarantine)
printf '192.0.2.81 x@other.co.example - a@mail.shop.co.example\n' >"$tmp/org.in"
psl=(--psl-file "$(dirname "$demo")/test.psl")
expect org-walk 0 '	dmarc=pass aligned=yes policy=reject$' -- batch "${zd[@]}" --input "$tmp/org.in"
expect org-walk-file 0 '	dmarc=pass aligned=yes policy=reject$' -- batch "${zd[@]}" "${psl[@]}" --input "$tmp/org.in"
expect org-psl 0 '	dmarc=unknown aligned=no policy=quarantine$' -- batch "${zd[@]}" "${psl[@]}" --org-domain psl --input "$tmp/org.in"
"$bin" batch "${zd[@]}" "${psl[@]}" --json --input "$tmp/org.in" >"$tmp/ow.json" 2>/dev/null
"$bin" batch "${zd[@]}" "${psl[@]}" --json --org-domain psl --input "$tmp/org.in" >"$tmp/op.json" 2>/dev/null
if python3 - "$tmp/ow.json" "$tmp/op.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["dmarc"]
p = json.load(open(sys.argv[2]))["dmarc"]
assert w["org_domain_method"] == "walk" and p["org_domain_method"] == "psl", (w, p)
assert w["walks"]["from"]["organizational_domain"] == "co.example", w
assert w["walks"]["spf"]["organizational_domain"] == "co.example", w
assert p["walks"]["from"]["organizational_domain"] == "shop.co.example", p
assert p["walks"]["spf"]["organizational_domain"] == "other.co.example", p
assert w["spf"]["aligned"] is True and p["spf"]["aligned"] is False
assert w["policy"]["domain"] == "co.example" and p["policy"]["domain"] == "shop.co.example"
PY
then ok org-json; else bad org-json "$(cat "$tmp/ow.json" "$tmp/op.json")"; fi
expect org-bad 64 "^spfcheck: --org-domain: 'dns' is not walk or psl$" --stderr -- batch "${zd[@]}" --org-domain dns --input "$tmp/org.in"
expect org-bad-file 64 "^spfcheck: --psl-file: cannot read a Public Suffix List from '$tmp/none.psl'$" --stderr -- batch "${zd[@]}" --psl-file "$tmp/none.psl" --org-domain psl --input "$tmp/org.in"

# over the wire: the fixture DNS server on loopback serves the zone;
# every walk's query goes through c-ares and the cache
mkfifo "$tmp/fix.in"
"$fixture" --zone "$tmp/from.zone" --max-seconds 120 <"$tmp/fix.in" >"$tmp/fix.out" 2>"$tmp/fix.err" &
fixpid=$!
exec 8>"$tmp/fix.in"
wait_lines 1 '^PORT' "$tmp/fix.out"
port=$(awk '/^PORT/ {print $2}' "$tmp/fix.out")
if [ -n "$port" ]; then
  w=(--nameserver "127.0.0.1:$port" --timeout 2000)
  tsv tsv-wire "${w[@]}" --input "$tmp/from.in"
  # sent COUNT NAME FILE ARGS: the batch of FILE sent COUNT queries
  sent() {
    local want=$1 name=$2 file=$3
    shift 3
    "$bin" batch "${w[@]}" "$@" --input "$file" >/dev/null 2>"$tmp/err"
    local got
    got=$(sed -nE 's/.*; DNS [0-9]+ lookups, ([0-9]+) sent$/\1/p' "$tmp/err")
    if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "$got sent, want $want: $(cat "$tmp/err")"; fi
  }
  # 200 lines, one From domain that is the MAIL FROM domain: its SPF
  # record, _dmarc.d000.example, _dmarc.example
  for i in $(seq 200); do echo "192.0.2.1 b$i@d000.example - a$i@d000.example"; done >"$tmp/same.in"
  sent 3 cache-same-from "$tmp/same.in"
  sent 3 cache-same-from-serial "$tmp/same.in" --concurrency 1
  # four From domains below nx.p005.example, none exists: 4 + 3 walk
  # names, 4 A queries for np, the SPF domain's record and its
  # _dmarc.d000.example (its walk's _dmarc.example is shared)
  for i in $(seq 200); do echo "192.0.2.1 b$i@d000.example - a@x$((i % 4)).nx.p005.example"; done >"$tmp/np.in"
  sent 13 cache-np "$tmp/np.in" --concurrency 200
  sent 13 cache-np-serial "$tmp/np.in" --concurrency 1
else
  bad tsv-wire "the DNS fixture did not start: $(cat "$tmp/fix.err")"
fi
exec 8>&-
wait "$fixpid"

echo "batch-from: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
