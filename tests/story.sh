#!/usr/bin/env bash
# story.sh - `spfcheck check` and `spfcheck explain` tell the same story
# through the command line (issue 12, part 4): for a sample of identities
# (every result, a limit in an include and past it, a void limit, an include
# loop, seven ESP includes, two records), both commands' --json output must
# agree on result, domain, mechanism, problem, lookups and void lookups, and
# so must the exit status and explain's text summary line.  The library-level
# check of every RFC 7208 suite test is tests/story.c.
# usage: story.sh SPFCHECK TESTDATA_DIR
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$1
data=$2
. "$(dirname "$0")/expect.sh"

z=(--offline --zone "$data/demo.zone" --zone "$data/limits.zone")

# agree NAME IP SENDER [OPTION...]
agree() {
  local name=$1 ip=$2 sender=$3 c x
  shift 3
  "$bin" check --json "${z[@]}" "$@" "$ip" "$sender" >"$tmp/check.json" 2>"$tmp/err"
  c=$?
  "$bin" explain --json "${z[@]}" "$@" "$ip" "$sender" >"$tmp/explain.json" 2>>"$tmp/err"
  x=$?
  if [ "$c" -ne "$x" ]; then
    bad "$name" "exit status: check $c, explain $x"; return
  fi
  if ! python3 - "$tmp/check.json" "$tmp/explain.json" >"$tmp/diff" 2>&1 <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
x = json.load(open(sys.argv[2]))
bad = []
for k in ("result", "domain", "mechanism", "problem", "explanation", "lookups", "void_lookups"):
    if c.get(k) != x.get(k):
        bad.append("%s: check %r, explain %r" % (k, c.get(k), x.get(k)))
tree = x["identities"]["mfrom"]["tree"]
if (tree["result"], tree["lookups"], tree["void_lookups"]) != (c["result"], c["lookups"], c["void_lookups"]):
    bad.append("explain's tree root: %s %s %s" % (tree["result"], tree["lookups"], tree["void_lookups"]))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(c["lookups"], c["void_lookups"])
PY
  then
    bad "$name" "check and explain disagree"; sed 's/^/  | /' "$tmp/diff" "$tmp/err"; return
  fi
  # the text summary line of explain shows the same counts as check
  local lk vd
  lk=$(cat "$tmp/diff")
  vd=${lk#* }
  lk=${lk% *}
  if ! "$bin" explain "${z[@]}" "$@" "$ip" "$sender" 2>&1 | grep -Eq "^lookups $lk/10, void lookups $vd/"; then
    bad "$name" "explain's summary line does not say lookups $lk/10, void lookups $vd"; return
  fi
  ok "$name"
}

agree pass 192.0.2.25 alice@example.com
agree fail-exp 192.0.2.99 alice@example.com
agree redirect 192.0.2.26 orders@shop.example.com
agree limit-in-include 192.0.2.99 a@greedy.example.org
agree limit-then-match 192.0.2.9 a@greedy.example.org
agree void-limit 192.0.2.1 a@void.example.org --record 'void.example.org=v=spf1 a:nx1.example.org mx:nx2.example.org exists:nx3.example.org ip4:192.0.2.1 -all'
agree include-loop 192.0.2.99 a@loop.example.org
agree seven-esps 192.0.2.99 a@esps.example.org
agree seven-esps-match-past-limit 203.0.113.11 a@esps.example.org
agree seven-esps-match-before 203.0.113.2 a@esps.example.org
agree two-records 192.0.2.1 a@twice.example.org

# the loop is named, and past the limit explain stops at it: the tree is as
# deep as the evaluation (11 frames), not the frame limit (24)
expect loop-named 5 'include loop: loop2.example.org is already being evaluated \(include:loop2.example.org in the record of loop.example.org\); not followed past the limit' -- explain "${z[@]}" 192.0.2.99 a@loop.example.org
"$bin" explain "${z[@]}" --color=never 192.0.2.99 a@loop.example.org >"$tmp/loop.txt"
depth=$(grep -c 'loop[2]*.example.org  record' "$tmp/loop.txt")
if [ "$depth" -eq 11 ]; then ok loop-depth; else bad loop-depth "$depth frames shown, want 11"; fi
expect two-records-heading 5 '^twice.example.org  permerror: more than one v=spf1 record \(2 published; RFC 7208 §4.5\)$' -- explain "${z[@]}" --color=never 192.0.2.1 a@twice.example.org

echo "story: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
