#!/usr/bin/env bash
# doc-links.sh - every relative link of the README and of doc/*.md,
# "[text](path)" or "[text](path#anchor)" or "[text](#anchor)", names a
# file of the tree, and its anchor a heading of that file (the README
# sends readers to doc/ for everything past the five things people do;
# issue 18).  Anchors are GitHub's: the heading's text lower-cased,
# everything but letters, digits, spaces, "-" and "_" dropped, spaces
# made "-", "-1", "-2" ... after a repeated one; headings inside ```
# blocks do not count.
# usage: doc-links.sh SOURCE_DIR
# Prints "doc-links: N passed, N failed".
set -u
export LC_ALL=C.UTF-8
cd "$1" || exit 1
pass=0
fail=0

# the anchors of a markdown file, one a line
anchors() {
  awk '
    /^```/ { fence = !fence; next }
    fence || !/^#+ / { next }
    {
      h = $0
      sub(/^#+ +/, "", h); sub(/ +#* *$/, "", h)
      h = tolower(h)
      gsub(/[^[:alnum:] _-]/, "", h)
      gsub(/ /, "-", h)
      if (h in seen) { seen[h]++; print h "-" seen[h] } else { seen[h] = 0; print h }
    }' "$1"
}

for f in README.md doc/*.md; do
  while read -r l; do
    path=${l%%#*}
    anchor=""
    [[ $l == *"#"* ]] && anchor=${l#*#}
    if [ -z "$path" ]; then
      target=$f
    else
      target=$(dirname "$f")/$path
    fi
    if [ ! -e "$target" ]; then
      echo "FAIL $f -> $l: no such file"; fail=$((fail + 1)); continue
    fi
    if [ -n "$anchor" ]; then
      if [[ $target != *.md ]]; then
        echo "FAIL $f -> $l: an anchor into a file that is not markdown"
        fail=$((fail + 1)); continue
      fi
      if ! anchors "$target" | grep -qxF -- "$anchor"; then
        echo "FAIL $f -> $l: no heading of $target makes #$anchor"
        fail=$((fail + 1)); continue
      fi
    fi
    echo "ok   $f -> $l"; pass=$((pass + 1))
  done < <(grep -oE '\]\([^) ]+\)' "$f" | sed 's/^](//; s/)$//' | grep -vE '^[a-z]+:')
done
echo "doc-links: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
