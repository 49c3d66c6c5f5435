#!/usr/bin/env bash
# charset.sh - the text of every command under a locale that is not UTF-8
# (LC_ALL=C) is ASCII: the explain tree in |- `- characters, "section"
# for "§", "->" for the arrows; under C.UTF-8 the same commands keep the
# UTF-8 tree; JSON is UTF-8 under both.  And the one style of RFC
# references (issue 17): no "RFC 7208 section 3.1" beside "§4.6" in lint's
# messages on the test zones, nor in the sources.
# No network: every case uses --offline.
# usage: charset.sh SPFCHECK TESTDATA_DIR SOURCE_ROOT
set -u
bin=$1
td=$2
src=$3
. "$(dirname "$0")/expect.sh"

d=(--offline --zone "$td/demo.zone")
r=(--offline --zone "$td/lint-rules.zone")
l=(--offline --zone "$td/lint-demo.zone")
p=(--offline --zone "$td/provider.zone")

# run NAME LOCALE ARGS...: stdout and stderr of spfcheck ARGS in
# $tmp/NAME.LOCALE (the exit status does not matter here)
run() {
  local name=$1 loc=$2
  shift 2
  LC_ALL=$loc "$bin" "$@" >"$tmp/$name.$loc" 2>&1 </dev/null
}

# ascii NAME ARGS...: under LC_ALL=C every byte is ASCII, and the output
# is not empty
ascii() {
  local name=$1
  shift
  run "$name" C "$@"
  if [ ! -s "$tmp/$name.C" ]; then
    bad "$name: ascii" "no output"
  elif LC_ALL=C grep -qP '[^\x00-\x7F]' "$tmp/$name.C"; then
    bad "$name: ascii" "non-ASCII bytes under LC_ALL=C"
    LC_ALL=C grep -nP '[^\x00-\x7F]' "$tmp/$name.C" | head -5 | sed 's/^/  | /'
  else
    ok "$name: ascii"
  fi
}

# has NAME LOCALE REGEX: the output of run NAME LOCALE matches REGEX (grep -P)
has() {
  if LC_ALL=C.UTF-8 grep -qP -- "$3" "$tmp/$1.$2"; then ok "$1 ($2): /$3/"
  else bad "$1 ($2)" "no /$3/"; sed 's/^/  | /' "$tmp/$1.$2" | head -20; fi
}
hasnt() {
  if LC_ALL=C.UTF-8 grep -qP -- "$3" "$tmp/$1.$2"; then bad "$1 ($2)" "has /$3/"
  else ok "$1 ($2): no /$3/"; fi
}

# explain: the tree
ascii explain explain "${d[@]}" 192.0.2.99 alice@example.com
has explain C '^\|- mx '
has explain C '^`- explanation from exp='
has explain C 'match -> fail  <- decides'
run explain C.UTF-8 explain "${d[@]}" 192.0.2.99 alice@example.com
has explain C.UTF-8 '^├─ mx '
has explain C.UTF-8 '^└─ explanation from exp='
has explain C.UTF-8 'match → fail  ◀ decides'
# the same text but for the symbols
sed -e 's/├─/|-/g; s/└─/`-/g; s/│/|/g; s/◀/<-/g; s/→/->/g; s/§/section /g' \
  "$tmp/explain.C.UTF-8" >"$tmp/explain.mapped"
if cmp -s "$tmp/explain.mapped" "$tmp/explain.C"; then ok "explain: C is UTF-8 with ASCII symbols"
else bad "explain: C is UTF-8 with ASCII symbols" "differs"; diff "$tmp/explain.mapped" "$tmp/explain.C" | head; fi
ascii explain-limit explain "${d[@]}" 192.0.2.99 a@greedy.example.org
has explain-limit C 'RFC 7208 section 4\.6\.4'
ascii explain-syntax explain "${d[@]}" 192.0.2.99 a@broken.example.org
ascii explain-helo explain "${d[@]}" --identity both --helo mail.example.com 192.0.2.25 alice@example.com
ascii explain-help explain --help

# check: the result line, the header fields, --help, errors on stderr
ascii check check "${d[@]}" --identity both --helo mail.example.com --header both --receiver mx.example.org 192.0.2.99 a@greedy.example.org
ascii check-help check --help
has check-help C 'RFC 7208 section 4\.3'
run check-help C.UTF-8 check --help
has check-help C.UTF-8 'RFC 7208 §4\.3'
ascii check-bad-ip check "${d[@]}" 192.0.2.999 alice@example.com
has check-bad-ip C 'RFC 7208 section 4\.1'
# a user's non-ASCII bytes are escaped too under C
ascii check-idn check "${d[@]}" 192.0.2.99 'a@bücher.example'

# lint, flatten, diff
ascii lint-typo lint "${l[@]}" typo.example.org
ascii lint-shop lint "${l[@]}" shop.example.org
ascii lint-dash lint --offline --record 'v=spf1 ip4:192.0.2.1 –all'
has lint-dash C 'EN DASH \(U\+2013\)'
ascii lint-dup lint "${r[@]}" dup-tree.example.net
ascii lint-glued lint "${r[@]}" glued-version.example.net
ascii flatten flatten "${p[@]}" customer.example.com
ascii flatten-void flatten "${r[@]}" flat-void.example.net
ascii diff diff "${d[@]}" example.com --record 'v=spf1 mx -all'

# the lookup-cost tree
ascii tree tree "${r[@]}" dup-tree.example.net
has tree C '^`- |^\|- '
ascii tree-limit tree "${r[@]}" flat-lookups.example.net
ascii tree-networks tree --offline --zone "$td/tree.zone" --networks redir.example.com
ascii tree-ip tree --offline --zone "$td/tree.zone" small.example.com --ip 198.51.100.7
has tree-ip C 'pass, by ip4:198\.51\.100\.0/26  via include:_spf\.google\.com > include:_netblocks\.google\.com'
ascii tree-dot tree --offline --zone "$td/tree.zone" --format dot shop.example.com
ascii explain-dot explain "${d[@]}" --format dot 192.0.2.99 alice@example.com
has explain-dot C 'match -> fail'

# an explanation with an en dash: named, and escaped under C
ascii lint-exp-dash lint "${r[@]}" exp-dash.example.net
has lint-exp-dash C 'EN DASH \(U\+2013\) at offset 23'

# senderid, dmarc
ascii senderid senderid --offline --zone "$td/senderid.zone" optout.example
ascii senderid-msg senderid --offline --zone "$td/senderid.zone" --message "$td/forwarded.eml"
ascii dmarc dmarc --offline --zone "$td/demo.zone" --zone "$td/dmarc.zone" --psl-file "$td/test.psl" messy.example
ascii audit audit --offline --zone "$td/demo.zone" --zone "$td/dmarc.zone" "$td/audit-domains.txt"
ascii explain-dmarc explain --offline --zone "$td/demo.zone" --zone "$td/dmarc.zone" --from 'Alice <alice@example.com>' 192.0.2.99 bounce@example.com

# report: aggregate reports (from testdata/, as doc/report.md runs it)
(cd "$td" && LC_ALL=C "$bin" report --offline --zone report.zone reports) >"$tmp/report.C" 2>&1
if [ -s "$tmp/report.C" ] && ! LC_ALL=C grep -qP '[^\x00-\x7F]' "$tmp/report.C"; then ok "report: ascii"
else bad "report: ascii" "empty or non-ASCII"; sed 's/^/  | /' "$tmp/report.C" | head; fi

# batch: text lines from stdin
printf '192.0.2.99 alice@example.com\n192.0.2.99 a@greedy.example.org\nbogus\n' >"$tmp/batch.in"
LC_ALL=C "$bin" batch "${d[@]}" <"$tmp/batch.in" >"$tmp/batch.C" 2>&1
if [ -s "$tmp/batch.C" ] && ! LC_ALL=C grep -qP '[^\x00-\x7F]' "$tmp/batch.C"; then ok "batch: ascii"
else bad "batch: ascii" "empty or non-ASCII"; sed 's/^/  | /' "$tmp/batch.C" | head; fi

# the usage text
ascii usage --help
for c in check explain batch policyd senderid lint dmarc audit flatten diff tree report; do
  ascii "help-$c" "$c" --help
done
# Graphviz output, under C too
ascii explain-dot explain --format dot "${d[@]}" 192.0.2.99 alice@example.com
ascii tree-dot tree --format dot "${r[@]}" dup-tree.example.net

# JSON is UTF-8 whatever the locale: the same bytes under C and C.UTF-8
for c in "lint-json lint --json --offline --record v=spf1%20ip4:192.0.2.1%20–all" \
         "explain-json explain --json ${d[*]} 192.0.2.99 a@greedy.example.org"; do
  read -r -a argv <<<"$c"
  name=${argv[0]}
  args=("${argv[@]:1}")
  args=("${args[@]//%20/ }")
  run "$name" C "${args[@]}"
  run "$name" C.UTF-8 "${args[@]}"
  sed -E -i 's/"elapsed_ms": [0-9.eE+-]+/"elapsed_ms": 0/g' "$tmp/$name.C" "$tmp/$name.C.UTF-8"
  if cmp -s "$tmp/$name.C" "$tmp/$name.C.UTF-8"; then ok "$name: same bytes under C"
  else bad "$name: same bytes under C" "differs"; fi
done
has lint-json C '§'
has explain-json C 'RFC 7208 §4\.6\.4'

# one style of RFC references: lint on every test zone's records, no
# "section N" (the word is the ASCII form of §, not a second style) and
# no "RFC NNNN N.N" without §
: >"$tmp/lintall"
for zone in "$td"/*.zone; do
  for name in $(awk '$0 !~ /^[;$]/ && /IN[ \t]+TXT[ \t]+"v=spf1/ { print $1 }' "$zone" | sort -u); do
    LC_ALL=C.UTF-8 "$bin" lint --offline --zone "$zone" "${name%.}" >>"$tmp/lintall" 2>&1
    LC_ALL=C.UTF-8 "$bin" lint --json --offline --zone "$zone" "${name%.}" >>"$tmp/lintall" 2>&1
  done
done
n=$(grep -c 'RFC' "$tmp/lintall")
if [ "$n" -lt 20 ]; then bad "lint on the zones" "only $n lines name an RFC"
else ok "lint on the zones: $n lines name an RFC"; fi
if grep -nP '[Ss]ection \d|RFC \d{3,4},? \d|§ ' "$tmp/lintall" >"$tmp/mixed"; then
  bad "lint: one style of RFC references" "$(wc -l <"$tmp/mixed") lines"; head -5 "$tmp/mixed" | sed 's/^/  | /'
else ok "lint: one style of RFC references"; fi

# and in the sources' strings: RFC NNNN §x.y, nothing else
if grep -rnP --include='*.[ch]' '"[^"]*(RFC \d{3,4} [Ss]ection|[Ss]ection \d|RFC \d{3,4},? \d)' \
     "$src/cmd" "$src/evaluator" "$src/dns" >"$tmp/srcmixed"; then
  bad "sources: one style of RFC references" "$(wc -l <"$tmp/srcmixed") lines"; head -5 "$tmp/srcmixed" | sed 's/^/  | /'
else ok "sources: one style of RFC references"; fi

echo "charset: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
