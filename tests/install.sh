#!/usr/bin/env bash
# install.sh - `meson install` into a scratch folder, then use what it put
# there as a user would: the man page renders, the installed spfcheck
# runs, the bash completion loads, and a C program built with pkg-config
# against libspfcheck's header and library evaluates the demo zone.
# usage: install.sh BUILD_DIR SOURCE_DIR
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
build=$1
src=$2
pass=0
fail=0
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

check() {  # check NAME COMMAND...: one case, passes when COMMAND succeeds
  local name=$1; shift
  if "$@" >"$dest/out" 2>&1; then
    echo "ok   $name"; pass=$((pass + 1))
  else
    echo "FAIL $name"; sed 's/^/  | /' "$dest/out"; fail=$((fail + 1))
  fi
}

check meson-install meson install -C "$build" --no-rebuild --destdir "$dest/root" --quiet
prefix=$(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root=$dest/root$prefix
pc=$(find "$root" -name spfcheck.pc | head -1)
lib=$(dirname "$(find "$root" -name 'libspfcheck.so*' | head -1)")

libdir=$(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"))')
check installed-report-module test -f "$root/$libdir/spfcheck/spfcheck-report.so"
# the installed binary looks for it there (SPFCHECK_MODULEDIR), not in the
# scratch root: copied next to the module, it finds it beside itself
check installed-report-runs bash -c "cp '$root/bin/spfcheck' '$root/$libdir/spfcheck/' &&
  '$root/$libdir/spfcheck/spfcheck' report --offline --zone '$src/testdata/report.zone' \
    '$src/testdata/reports/microsoft-ns.xml' | grep -q '3 records, 301 messages' &&
  rm '$root/$libdir/spfcheck/spfcheck'"
check installed-binary bash -c "'$root/bin/spfcheck' --version | grep -q '^spfcheck '"
check installed-man bash -c "man -l '$(find "$root" -name spfcheck.1 | head -1)' 2>&1 | grep -q 'lint'"
check installed-completion bash -c "f='$root/share/bash-completion/completions/spfcheck'; . \"\$f\" && complete -p spfcheck"
check installed-header test -f "$root/include/spfcheck/spf.h" -a -f "$root/include/spfcheck/spf_dns.h"
check pkg-config bash -c "[ -n '$pc' ] && PKG_CONFIG_PATH='$(dirname "$pc")' pkg-config --exists spfcheck"
check compile-with-pkg-config bash -c "cc -o '$dest/example' '$src/doc/examples/libspfcheck-check.c' \
  \$(PKG_CONFIG_PATH='$(dirname "$pc")' PKG_CONFIG_SYSROOT_DIR='$dest/root' pkg-config --cflags --libs spfcheck) \
  \$(pkg-config --libs libevent)"
check example-fail bash -c "LD_LIBRARY_PATH='$lib' '$dest/example' '$src/testdata/demo.zone' 192.0.2.99 alice@example.com |
  grep -qx 'fail -all'"
check example-pass bash -c "LD_LIBRARY_PATH='$lib' '$dest/example' '$src/testdata/demo.zone' 192.0.2.25 alice@example.com |
  grep -qx 'pass mx'"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
