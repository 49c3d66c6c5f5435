#!/usr/bin/env bash
# completion.sh - the bash completion (dist/spfcheck.bash-completion)
# driven as bash drives it: source it, check that `complete` registered
# it, then set COMP_WORDS and COMP_CWORD for a command line being typed,
# call the function `complete -p spfcheck` names, and compare COMPREPLY.
# Runs in an empty scratch folder, so file names offered are ours.
# usage: completion.sh SPFCHECK SCRIPT
# Prints "completion: N passed, N failed".
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
bin=$(readlink -f "$1")
script=$(readlink -f "$2")
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# shellcheck source=dist/spfcheck.bash-completion
. "$script"
spec=$(complete -p spfcheck 2>/dev/null)
if [[ $spec =~ -F\ ([^ ]+)\ spfcheck$ ]]; then
  fn=${BASH_REMATCH[1]}
  ok "registered for spfcheck: $spec"
else
  bad "registered" "complete -p spfcheck: '$spec'"
  echo "completion: $pass passed, $fail failed"; exit 1
fi

# offered LINE: the words offered for LINE (the last word is the one
# being completed; a line ending in a space completes an empty word),
# sorted, one line
offered() {
  local line=$1
  read -ra COMP_WORDS <<<"$line"
  COMP_WORDS[0]=$bin
  [[ $line == *' ' ]] && COMP_WORDS+=('')
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  "$fn" spfcheck "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect NAME LINE WANT: exactly WANT is offered
expect() {
  local got; got=$(offered "$2")
  if [ "$got" = "$3" ]; then ok "$1: '$2' -> $3"; else bad "$1" "'$2' offers '$got', want '$3'"; fi
}
# expect_has NAME LINE WORD...: at least these are offered
expect_has() {
  local name=$1 line=$2 got w; shift 2
  got=" $(offered "$line") "
  for w in "$@"; do
    if [[ $got != *" $w "* ]]; then bad "$name" "'$line' offers '$got', not $w"; return; fi
  done
  ok "$name: '$line' -> $*"
}

expect commands "spfcheck " "audit batch check diff dmarc explain flatten lint policyd report senderid tree"
expect command-prefix "spfcheck ch" "check"
expect command-prefix-2 "spfcheck fl" "flatten"
expect top-options "spfcheck --v" "--version"
expect option-prefix "spfcheck check --id" "--identity"
expect identity-values "spfcheck check --identity " "both helo mfrom"
expect identity-prefix "spfcheck check 192.0.2.1 a@example.com --identity h" "helo"
expect identity-after-equals "spfcheck check --identity = m" "mfrom"
expect header-values "spfcheck explain --header " "auth-results both received-spf"
expect color-values "spfcheck explain --color a" "always auto"
expect log-format-values "spfcheck policyd --log-format " "compact full"
expect_has policyd-options "spfcheck policyd --" --config --listen --user --log --log-format --max-connections
expect listen-prefixes "spfcheck policyd --listen " "inet: unix:"
expect lint-options "spfcheck lint --st" "--strict"
expect tree-command "spfcheck tr" "tree"
expect format-values "spfcheck tree --format " "dot html text"
expect lint-format-values "spfcheck lint --format " "html text"
expect report-format-values "spfcheck report --format " "html text"
expect explain-format-values "spfcheck explain --format d" "dot"
expect explain-format-html "spfcheck explain --format h" "html"
expect diff-dns-options "spfcheck diff --of" "--offline"
expect diff-max-queries "spfcheck diff --max" "--max-queries-in-flight"
expect void-count-values "spfcheck batch --void-count " "per-query rfc"
expect void-count-prefix "spfcheck check --void-count p" "per-query"
expect explain-void-count "spfcheck explain --void" "--void-count --void-limit"
expect commands-d "spfcheck d" "diff dmarc"
expect command-audit "spfcheck au" "audit"
expect command-report "spfcheck rep" "report"
expect audit-options "spfcheck audit --c" "--concurrency --csv"
expect dmarc-options "spfcheck dmarc --st" "--strict"
expect report-what-if "spfcheck report --w" "--what-if"
expect report-csv "spfcheck report --cs" "--csv"
expect batch-brief "spfcheck batch --br" "--brief"
expect check-from "spfcheck check --fr" "--from"
expect org-domain-values "spfcheck check --org-domain " "psl walk"
expect org-domain-explain "spfcheck explain --org-domain w" "walk"
expect org-domain-audit "spfcheck audit --org-domain " "psl walk"
expect org-domain-batch "spfcheck batch --org-domain p" "psl"
: >draft.zone
: >dummy.txt
expect zone-file "spfcheck check --zone dr" "draft.zone"
expect psl-file "spfcheck check --psl-file dr" "draft.zone"
expect explain-output-file "spfcheck explain --format html -o dr" "draft.zone"
expect report-input-file "spfcheck report dr" "draft.zone"
expect tree-providers-file "spfcheck tree --providers dr" "draft.zone"
expect log-file-or-word "spfcheck policyd --log s" "stderr syslog"
expect_has log-file "spfcheck policyd --log d" draft.zone dummy.txt
expect no-values-for-numbers "spfcheck batch --concurrency " ""
# the help of a command that has none: nothing, no error
expect unknown-command "spfcheck frobnicate --" ""
# an option each command's --help lists is offered for it
for c in check explain batch policyd senderid lint tree flatten diff dmarc audit report; do
  mapfile -t want < <("$bin" "$c" --help | grep -oE '^  (-h, )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+')
  expect_has "every-option-of-$c" "spfcheck $c --" "${want[@]}"
done

echo "completion: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
