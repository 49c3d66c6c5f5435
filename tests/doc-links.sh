#!/usr/bin/env bash
# doc-links.sh - every relative link of the README and of doc/*.md,
# "[text](path)", names a file of the tree (the README sends readers to
# doc/ for benchmarks, tests and internals; issue 18).
# usage: doc-links.sh SOURCE_DIR
# Prints "doc-links: N passed, N failed".
set -u
cd "$1" || exit 1
pass=0
fail=0
for f in README.md doc/*.md; do
  while read -r l; do
    l=${l%%#*}
    [ -z "$l" ] && continue
    if [ -e "$(dirname "$f")/$l" ]; then
      echo "ok   $f -> $l"; pass=$((pass + 1))
    else
      echo "FAIL $f -> $l: no such file"; fail=$((fail + 1))
    fi
  done < <(grep -oE '\]\([^)]+\)' "$f" | sed 's/^](//; s/)$//' | grep -vE '^[a-z]+:')
done
echo "doc-links: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
