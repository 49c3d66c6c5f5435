#!/usr/bin/env bash
# dot.sh - the Graphviz output of explain and tree (--format dot): each
# graph is rendered with Graphviz's dot to SVG, which must be well-formed
# XML (xmllint) and hold the expected node labels; DNS-derived text with
# quotes, backslashes and control bytes stays inside its strings.  Needs
# graphviz and libxml2-utils (bootstrap.sh installs them).
# usage: dot.sh SPFCHECK TESTDATA_DIR
set -u
bin=$1
td=$2
. "$(dirname "$0")/expect.sh"
export SPFCHECK_PROVIDERS=$(cd "$td/.." && pwd)/data/providers.txt

for tool in dot xmllint; do
  if ! command -v "$tool" >/dev/null; then
    bad "$tool" "not installed (bootstrap.sh installs graphviz and libxml2-utils)"
    echo "dot: $pass passed, $fail failed"; exit 1
  fi
done

# render NAME WANT_EXIT ARGS...: spfcheck ARGS, then dot -Tsvg and xmllint;
# the SVG is left in $tmp/NAME.svg
render() {
  local name=$1 want=$2
  shift 2
  "$bin" "$@" >"$tmp/$name.dot" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then bad "$name" "exit $rc, want $want"; sed 's/^/  | /' "$tmp/err"; return 1; fi
  if ! dot -Tsvg "$tmp/$name.dot" >"$tmp/$name.svg" 2>"$tmp/err"; then
    bad "$name" "dot refused it"; sed 's/^/  | /' "$tmp/err" "$tmp/$name.dot" | head -20; return 1; fi
  if ! xmllint --noout "$tmp/$name.svg" 2>"$tmp/err"; then
    bad "$name" "the SVG is not well-formed"; sed 's/^/  | /' "$tmp/err" | head; return 1; fi
  ok "$name renders"
}
# has NAME TEXT...: the SVG holds each TEXT (fixed strings)
has() {
  local name=$1 w
  shift
  for w in "$@"; do
    if ! grep -qF -- "$w" "$tmp/$name.svg"; then bad "$name-labels" "no '$w' in the SVG"; return; fi
  done
  ok "$name-labels"
}
nodes() { grep -c 'class="node"' "$tmp/$1.svg"; }

z=(--offline --zone "$td/tree.zone")
if render tree 1 tree "${z[@]}" --format dot shop.example.com; then
  has tree '>shop.example.com<' '>include:_spf.google.com<' '>Google Workspace<' \
    '>include:_netblocks3.google.com<' '>lookup 11: past the limit of 10<' '>exists:%{i}._spf.salesforce.com<'
  # the top and one node per line of the text view
  want=$(( $("$bin" tree "${z[@]}" shop.example.com | grep -c '[├└]─ ') + 1 ))
  if [ "$(nodes tree)" -eq "$want" ]; then ok "tree-nodes ($want)"; else bad tree-nodes "$(nodes tree) nodes, want $want"; fi
  # each include's terms hang from it: _spf.google.com's three netblocks
  if [ "$(grep -c '^	n3 -> ' "$tmp/tree.dot")" -eq 3 ]; then ok tree-edges; else bad tree-edges "n3 has not 3 children"; fi
fi
render tree-draft 1 tree --offline --format dot --record 'v=spf1 a:x1.example.com a:x2.example.com a:x3.example.com -all' &&
  has tree-draft '>void lookup 3: past the limit of 2<' '>a:x3.example.com<'

dz=(--offline --zone "$td/demo.zone")
if render explain 1 explain "${dz[@]}" --format dot 192.0.2.99 alice@example.com; then
  has explain 'MAIL FROM identity: alice@example.com, client 192.0.2.99' '>include:_spf.esp.example.net<' \
    '>_spf.esp.example.net<' '>match → fail<' '>match → softfail<'
fi
render explain-pass 0 explain "${dz[@]}" --format dot 192.0.2.25 alice@example.com &&
  has explain-pass '>mx<' '>match → pass<'
render explain-both 0 explain "${dz[@]}" --format dot --identity both --helo mail.example.com 192.0.2.25 alice@example.com &&
  has explain-both 'HELO identity' 'MAIL FROM identity'
render explain-none 4 explain "${dz[@]}" --format dot 192.0.2.25 a@nospf.invalid &&
  has explain-none 'MAIL FROM identity' '>→ none<' '>nospf.invalid has no SPF record<'

# hostile text: a sender with a quote, a backslash and a control byte, a
# record with quotes and a backslash (exp=)
if render hostile 1 explain "${z[@]}" --format dot 203.0.113.1 $'a"b\\c\001d@hostile.example.com'; then
  has hostile 'a&quot;b\x5Cc\x01d@hostile.example.com' 'exp=q&quot;u\x5Co.example.com' '>include:sendgrid.net<'
fi

# what --format refuses
expect format-bad 64 "--format must be text, dot or html, not 'svg'" --stderr -- tree "${z[@]}" --format svg shop.example.com
expect format-json 64 'not with --json' --stderr -- tree "${z[@]}" --format dot --json shop.example.com
expect format-networks 64 'not with --networks' --stderr -- tree "${z[@]}" --format dot --networks shop.example.com
expect format-explain-json 64 'not with --json' --stderr -- explain "${dz[@]}" --format dot --json 192.0.2.99 alice@example.com
expect format-text 1 '^shop\.example\.com +own' -- tree "${z[@]}" --format text shop.example.com

echo "dot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
