# wait.sh - waiting for a condition in the shell tests (sourced by
# tests/policyd.sh and tests/postfix-e2e.sh).  A test never sleeps a fixed
# time to pace itself: it waits for a condition (a line in a file, a port
# that answers, a process gone) with a bound, polling every 50 ms.

# wait_until SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS
wait_until() {
  local end=$(($(date +%s) + $1)); shift
  until "$@"; do
    [ "$(date +%s)" -le "$end" ] || return 1
    sleep 0.05
  done
}

# lines REGEX FILE: how many lines of FILE match REGEX (0 if none or no file)
lines() { local n; n=$(grep -Ec -- "$1" "$2" 2>/dev/null); echo "${n:-0}"; }

# at_least N REGEX FILE: at least N lines of FILE match REGEX
at_least() { [ "$(lines "$2" "$3")" -ge "$1" ]; }

# wait_lines N REGEX FILE: wait (20 s at most) until N lines of FILE match REGEX
wait_lines() {
  wait_until 20 at_least "$@" || { echo "  (waited 20 s for $1 line(s) /$2/ in ${3##*/})"; return 1; }
}

# gone PID...: none of the processes exists any more
gone() {
  local p
  for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done
  return 0
}
