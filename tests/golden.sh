#!/usr/bin/env bash
# golden.sh - golden-output tests of spfcheck: for each tests/golden/NAME.in
# (the arguments, shell-quoted, on one line; @ZONE@ stands for the demo
# zone, @TESTDATA@ for the folder it is in), run spfcheck and compare stdout plus a last line "[exit N]" with
# tests/golden/NAME.out using diff -u.  Elapsed times in JSON are
# normalised to 0.  No network: every case uses --offline.
# usage: golden.sh SPFCHECK DEMO_ZONE [--update]
set -u
bin=$1
zone=$2
update=${3:-}
dir=$(cd "$(dirname "$0")" && pwd)/golden
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NO_COLOR=      # colour only where a case asks for it
export LC_ALL=C.UTF-8
# the provider names of spfcheck tree: the list in the source tree
export SPFCHECK_PROVIDERS="$(cd "$(dirname "$zone")/.." && pwd)/data/providers.txt"

for in in "$dir"/*.in; do
  name=$(basename "$in" .in)
  args=$(sed -e "s|@ZONE@|'$zone'|g" -e "s|@TESTDATA@|$(dirname "$zone")|g" "$in")
  eval "set -- $args"
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  echo "[exit $?]" >>"$tmp/out"
  sed -E -i 's/"elapsed_ms": [0-9.eE+-]+/"elapsed_ms": 0/g' "$tmp/out"
  # file names under the test data folder (--psl-file) as written in .in
  sed -i "s|$(dirname "$zone")/|@TESTDATA@/|g" "$tmp/out"
  if [ "$update" = --update ]; then
    cp "$tmp/out" "$dir/$name.out"
  fi
  if diff -u "$dir/$name.out" "$tmp/out" >"$tmp/diff" 2>&1; then
    echo "ok   $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name"
    sed 's/^/  | /' "$tmp/diff"
    [ -s "$tmp/err" ] && sed 's/^/  stderr| /' "$tmp/err"
    fail=$((fail + 1))
  fi
done

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
