#!/usr/bin/env bash
# stress.sh - the whole test suite N times in a row on a busy machine
# (issue 12: the README's test command must pass every time).
#
# usage: tests/stress.sh [BUILDDIR [N]]      (defaults: build, 20)
#   STRESS_HOGS   CPU hogs to run (default: one per core, `nproc`)
#
# Starts STRESS_HOGS busy loops, each bounded by `timeout` (so a hog
# outlives the script by no more than that bound even if the script is
# killed), runs `meson test -C BUILDDIR --num-processes 2` N times while
# they keep every core busy, and stops the hogs by their PID at the end.
# Each run's log is BUILDDIR/meson-logs/stress-K.txt.  Prints one line per
# run, then "K/N clean runs" and "stress: K passed, M failed" (each run is
# one case, for .ci/run's tally).  Exit 0 only if every run was clean.
set -u
export LC_ALL=C.UTF-8   # the UTF-8 output (tree, §); charset.sh tests the ASCII one
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-20}
hogs=${STRESS_HOGS:-$(nproc 2>/dev/null || echo 2)}
case "$runs" in ''|*[!0-9]*|0) echo "stress.sh: N must be a positive number, not '$runs'" >&2; exit 64 ;; esac
case "$hogs" in ''|*[!0-9]*) echo "stress.sh: STRESS_HOGS must be a number, not '$hogs'" >&2; exit 64 ;; esac
if [ ! -f "$build/build.ninja" ]; then
  echo "stress.sh: '$build' is not a meson build directory (run ./bootstrap.sh first)" >&2
  exit 64
fi
# build first, without the hogs, so the runs only test
ninja -C "$build" >/dev/null || { echo "stress.sh: the build failed" >&2; exit 1; }

# a hog may run at most as long as the runs may (the suite's own
# timeouts are at most 180 s per test, ~10 min per run at worst)
bound=$((runs * 600))
hog_pids=()
stop_hogs() {
  for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${hog_pids[@]}"; do wait "$p" 2>/dev/null; done
  hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$hogs"); do
  timeout "$bound" bash -c 'while :; do :; done' &
  hog_pids+=($!)
done
echo "stress: $runs runs of meson test, $hogs CPU hogs (PIDs ${hog_pids[*]:-none})"

clean=0
for i in $(seq "$runs"); do
  t0=$(date +%s)
  meson test -C "$build" --num-processes 2 --logbase "stress-$i" >"$build/meson-logs/stress-$i.out" 2>&1
  rc=$?
  secs=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then
    clean=$((clean + 1))
    echo "run $i/$runs: clean (${secs} s)"
  else
    # the failing tests, as meson names them, and their first lines
    echo "run $i/$runs: FAILED (${secs} s, exit $rc): see $build/meson-logs/stress-$i.txt"
    grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR)' "$build/meson-logs/stress-$i.out" |
      sed 's/^/  /'
    grep -E '^(FAIL|\[  FAILED|\[  ERROR).*|error:|Assertion' "$build/meson-logs/stress-$i.txt" |
      head -20 | sed -E 's/^/  | /; s/([0-9]+) passed, ([0-9]+) failed/\1 ok, \2 not ok/'
  fi
done
stop_hogs
echo "$clean/$runs clean runs"
echo "stress: $clean passed, $((runs - clean)) failed"
[ "$clean" -eq "$runs" ]
