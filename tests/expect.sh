# expect.sh - sourced by the command-line test scripts (cli.sh, lint.sh,
# senderid.sh): pass/fail counters, a scratch folder $tmp removed on
# exit, and the checks.  The script sets bin (spfcheck) first.
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# expect NAME STATUS REGEX [--stderr] -- ARGS...: run "$bin" ARGS, check the
# exit status and that stdout (or stderr, which must then be one line)
# matches the extended regex.
expect() {
  local name=$1 want=$2 re=$3 stream=out
  shift 3
  if [ "$1" = "--stderr" ]; then stream=err; shift; fi
  [ "$1" = "--" ] && shift
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    bad "$name" "exit $got, want $want"; sed 's/^/  | /' "$tmp/out" "$tmp/err"; return
  fi
  if ! grep -Eq -- "$re" "$tmp/$stream"; then
    bad "$name" "std$stream does not match /$re/"; sed 's/^/  | /' "$tmp/$stream"; return
  fi
  if [ "$stream" = err ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    bad "$name" "the error is not one line"; sed 's/^/  | /' "$tmp/err"; return
  fi
  ok "$name"
}
