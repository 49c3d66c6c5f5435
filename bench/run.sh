#!/usr/bin/env bash
# bench/run.sh - spfcheck beside the SPF evaluators mail administrators run
# today (libspf2's spfquery, pyspf, Mail::SPF, pypolicyd-spf), measured in
# one run on one generated zone over a link with added latency (peers:
# libspf2's spfquery, pyspf, Mail::SPF, pypolicyd-spf and node's mailauth,
# as the harness's peers.conf lists them).
#
#   bash bench/run.sh [--quick] [--no-peers]
#
# --quick: one run of each (five by default); --no-peers: measure
# spfcheck again but keep the peers' figures of the last full run.
#
# Uses the shared harness (../shared/bench, or $SPFBENCH_DIR): it installs
# the peers and nsd, builds the zone (1000 sender domains shaped like real
# ones), starts DNS inside a private network namespace (loopback only) with
# a direct (~0 ms) and a delayed (~5 ms) server, and runs every evaluator.
# spfcheck takes part as `spfcheck batch --brief`, default options.  Then
# spfcheck alone: throughput as --concurrency rises (64, 256, 1000, 4000,
# interleaved, 5 ms) beside the floor of the run (the deepest pair's
# chain of round trips, and the CPU time), warm-cache throughput,
# instructions per warm evaluation (callgrind), per-evaluation latency
# percentiles inside a batch.
#
# Prints one table with ratios to spfcheck and writes it to
# $SPFBENCH_RUN/bench-summary.md.  Needs root (network namespace).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SPFBENCH_DIR:-$ROOT/../shared/bench}"
export SPFBENCH_RUN="${SPFBENCH_RUN:-$ROOT/bench/run}"
RUNS=5; LATRUNS=11; PEERS=1
for arg in "$@"; do
  case $arg in
    --quick) RUNS=1; LATRUNS=3 ;;
    --no-peers) PEERS=0 ;;   # keep the harness's latest peer results
    *) echo "usage: bench/run.sh [--quick] [--no-peers]" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3

[ -d "$SHARED" ] || { echo "bench: no harness at $SHARED (set SPFBENCH_DIR)" >&2; exit 2; }
mkdir -p "$SPFBENCH_RUN"
bash "$ROOT/bootstrap.sh"
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
SPF="$ROOT/build/cmd/spfcheck"

echo "bench: setting up the harness (namespace, nsd, peers) in $SPFBENCH_RUN" >&2
bash "$SHARED/setup.sh" >&2

if [ "$PEERS" = 1 ]; then
  echo "bench: all evaluators, $RUNS runs ($LATRUNS for latency)" >&2
  bash "$SHARED/run_peers.sh" --runs "$RUNS" --lat-runs "$LATRUNS" \
    --add-peer "spfcheck pairs lines $SPF batch --brief" >&2
fi
RESULTS=$(readlink -f "$SPFBENCH_RUN/results/latest/results.json")

# throughput must not fall as concurrency rises: the four interleaved in
# every repetition, at 5 ms (--out: the peers' run stays the latest)
CONC="64 256 1000 4000"
echo "bench: spfcheck batch at --concurrency ${CONC// /, } (5 ms), $RUNS runs" >&2
conc_args=(); conc_peers=""
for c in $CONC; do
  conc_args+=(--add-peer "spfcheck-c$c pairs lines $SPF batch --brief --concurrency $c")
  conc_peers="$conc_peers${conc_peers:+,}spfcheck-c$c"
done
CONC_OUT="$SPFBENCH_RUN/results/concurrency-$(date -u +%Y%m%d-%H%M%S)"
"$PY" "$SHARED/harness.py" --runs "$RUNS" --workloads seq5 --peers "$conc_peers" \
  "${conc_args[@]}" --out "$CONC_OUT" >&2

# spfcheck alone, inside the namespace, direct DNS (0 ms)
pairs="$SPFBENCH_RUN/pairs.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 50); do cat "$pairs"; done > "$tmp/warm.txt"
for i in $(seq 5); do cat "$pairs"; done > "$tmp/p5.txt"
ns() { bash "$SHARED/nsrun.sh" --rtt "$1" "${@:2}"; }

echo "bench: spfcheck warm-cache throughput (50 x the pairs in one process)" >&2
/usr/bin/time -f '%e %U %S %M' -o "$tmp/warm.time" \
  bash "$SHARED/nsrun.sh" --rtt 0 "$SPF" batch --brief --concurrency 256 \
  < "$tmp/warm.txt" > /dev/null 2>"$tmp/warm.err"

echo "bench: spfcheck instructions per warm evaluation (callgrind)" >&2
for n in 1 5; do
  f=$pairs; [ $n = 5 ] && f=$tmp/p5.txt
  ns 0 valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$n" \
    "$SPF" batch --brief --concurrency 256 < "$f" > /dev/null 2>"$tmp/cg.$n.err"
done

echo "bench: spfcheck per-evaluation latency in a cold batch (5 ms)" >&2
ns 5 "$SPF" batch --json --concurrency 256 < "$pairs" > "$tmp/lat.jsonl" 2>/dev/null

# The harness's 5 ms server is a Python proxy that sleeps to keep its
# timing; under a burst of concurrent queries it, not the evaluator, sets
# the pace.  The same zone and pairs once more, served by spfcheck's own
# fixture DNS server (libevent timers, never a sleep) with 5 ms of latency,
# for spfcheck batch and libspf2's spfquery, alternating, $RUNS runs each.
echo "bench: spfcheck and spfquery against the fixture DNS server (5 ms)" >&2
cat "$SPFBENCH_RUN"/zones/*.zone > "$tmp/all.zone"
echo "nameserver 127.0.0.4" > "$tmp/resolv-fx.conf"
ip netns exec spfbench "$ROOT/build/tests/dnsfixture" --addr 127.0.0.4 --port 53 \
  --latency 5 --zone "$tmp/all.zone" --mode _spf.broken-dns.test=servfail \
  --max-seconds 1800 > "$tmp/fx.log" 2>&1 &
fxpid=$!
sleep 1
fx=(ip netns exec spfbench unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    "$tmp/resolv-fx.conf")
for r in $(seq "$RUNS"); do
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/fx-spfcheck.$r" \
    "${fx[@]}" "$SPF" batch --brief --concurrency 256 < "$pairs" > "$tmp/fx-spfcheck.out" 2>/dev/null || true
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/fx-libspf2.$r" \
    "${fx[@]}" spfquery.libspf2 -file - < "$pairs" > "$tmp/fx-libspf2.out" 2>/dev/null || true   # exits 2 after a permerror
done
kill "$fxpid" 2>/dev/null; wait "$fxpid" 2>/dev/null || true

"$PY" - "$RESULTS" "$tmp" "$SPFBENCH_RUN/bench-summary.md" "$CONC_OUT/results.json" <<'EOF'
import json, statistics, sys, re
results, tmp, out, conc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
d = json.load(open(results))
runs = d["runs"]
def med(xs): return statistics.median(xs) if xs else float("nan")
rows = {}
for r in runs:
    rows.setdefault((r["workload"], r["peer"]), []).append(r)
peers = sorted({p for _, p in rows}, key=lambda p: (p != "spfcheck", p))
lines = []
P = lines.append
P("| workload | evaluator | evals/s | wall s | CPU s | peak RSS MiB | DNS queries | spfcheck speed-up |")
P("|---|---|---:|---:|---:|---:|---:|---:|")
npairs = d.get("n_pairs", 1000)
for wl in ("seq0", "seq5"):
    sc = rows.get((wl, "spfcheck"))
    sc_wall = med([r["wall_s"] for r in sc]) if sc else None
    for p in peers:
        rs = rows.get((wl, p))
        if not rs: continue
        wall = med([r["wall_s"] for r in rs])
        cpu = med([r["cpu_s"] for r in rs])
        rss = med([r["rss_kb"] for r in rs]) / 1024
        q = med([r["dns"].get("queries", 0) for r in rs])
        ratio = f"{wall / sc_wall:.1f}x" if sc_wall else "-"
        P(f"| {wl} | {p} | {npairs / wall:.0f} | {wall:.3f} | {cpu:.2f} | {rss:.1f} | {q:.0f} | {ratio} |")
P("")
P("| evaluator | one deep evaluation at 5 ms RTT, p50 ms (lat5 - startup) | p99 ms | startup ms | x (depth x RTT = 10 x 5.3 ms) |")
P("|---|---:|---:|---:|---:|")
def pct(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(f * len(xs)))] if xs else float("nan")
for p in peers:
    l5 = rows.get(("lat5", p)); st = rows.get(("startup", p))
    if not l5 or not st: continue
    s0 = med([r["wall_s"] for r in st])
    each = [(r["wall_s"] - s0) * 1000 for r in l5]
    v = med(each)
    P(f"| {p} | {v:.1f} | {pct(each, 0.99):.1f} | {s0 * 1000:.1f} | {v / 53.0:.2f} |")
P("")
# throughput by concurrency, and the floor of this run: the deepest pair
# is a chain of 10 sequential lookups (deep.test, depth 9), so no
# evaluator finishes the batch sooner than 10 round trips; nor sooner
# than its own CPU time
try:
    c = json.load(open(conc))
    summ = c["summary"]
    m = re.search(r"rtt_median_ms=([\d.]+)", c["facts"].get("rtt_delayed", ""))
    rtt = float(m.group(1)) if m else 5.3
    sc = d["summary"].get("seq5/spfcheck", {})
    cpu = sc.get("cpu_med", float("nan"))
    floor = max(10 * rtt / 1000, cpu)
    P(f"| spfcheck batch, 5 ms RTT | evals/s net | wall s | CPU s | x --concurrency 64 |")
    P("|---|---:|---:|---:|---:|")
    base = None
    for k in sorted(summ, key=lambda k: int(k.rsplit("-c", 1)[1])):
        s = summ[k]
        base = base or s["evals_per_s_net"]
        P(f"| --concurrency {k.rsplit('-c', 1)[1]} | {s['evals_per_s_net']:.0f} | "
          f"{s['wall_med'] - s.get('wrapper_s', 0):.3f} | {s['cpu_med']:.2f} | "
          f"{s['evals_per_s_net'] / base:.2f} |")
    P(f"(1-min load average at the runs' starts: max {max(s['loadavg1_max'] for s in summ.values()):.1f} on 2 cores)")
    if sc:
        net = sc.get("evals_per_s_net", sc["evals_per_s"])
        lib = d["summary"].get("seq5/libspf2", {})
        P(f"floor of this run: the deepest pair's 10 round trips at {rtt:.2f} ms = {10 * rtt:.1f} ms, "
          f"spfcheck's CPU {cpu:.2f} s -> at most {npairs / floor:.0f} evals/s; "
          f"default options: {net:.0f} evals/s net ({npairs / floor / net:.2f}x from the floor)"
          + (f", {net / lib.get('evals_per_s_net', lib['evals_per_s']):.0f}x libspf2" if lib else ""))
except (OSError, KeyError, ValueError) as ex:
    P(f"no concurrency table: {ex}")
P("")
e, u, s_, m = open(f"{tmp}/warm.time").read().split()[-4:]
n_warm = 50 * npairs
P(f"spfcheck warm cache: {n_warm} evaluations in {float(e):.2f} s wall, "
  f"{float(u) + float(s_):.2f} s CPU -> {n_warm / (float(u) + float(s_)):.0f} evaluations per CPU second, "
  f"peak RSS {int(m) / 1024:.1f} MiB")
def ir(path):
    t = open(path).read()
    m = re.search(r"I\s+refs:\s+([\d,]+)", t)
    return int(m.group(1).replace(",", "")) if m else None
i1, i5 = ir(f"{tmp}/cg.1.err"), ir(f"{tmp}/cg.5.err")
if i1 and i5:
    P(f"spfcheck instructions per warm evaluation (callgrind, (I(5000) - I(1000)) / 4000): {(i5 - i1) / (4 * npairs):.0f}")
lat = []
for line in open(f"{tmp}/lat.jsonl"):
    try: lat.append(json.loads(line)["elapsed_ms"])
    except Exception: pass
if lat:
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))]
    P(f"spfcheck per-evaluation latency in a cold batch at 5 ms RTT: p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {lat[-1]:.1f} ms")
import glob
fxr = {}
for peer in ("spfcheck", "libspf2"):
    ts = [open(f).read().split()[-4:] for f in sorted(glob.glob(f"{tmp}/fx-{peer}.*")) if f[-1].isdigit()]
    if ts:
        fxr[peer] = (med([float(t[0]) for t in ts]), med([float(t[1]) + float(t[2]) for t in ts]),
                     med([int(t[3]) for t in ts]) / 1024)
if fxr:
    P("")
    P("| same pairs, fixture DNS server at 5 ms | evals/s | wall s | CPU s | peak RSS MiB | spfcheck speed-up |")
    P("|---|---:|---:|---:|---:|---:|")
    for peer, (w, c, m) in fxr.items():
        ratio = f"{w / fxr['spfcheck'][0]:.1f}x" if "spfcheck" in fxr else "-"
        P(f"| {peer} | {npairs / w:.0f} | {w:.3f} | {c:.2f} | {m:.1f} | {ratio} |")
    # the libspf2 output is 4 lines per query, the first word of the first the result
    try:
        a = [(l.split() or ["-"])[0].lower() for l in open(f"{tmp}/fx-spfcheck.out")]
        ls, skip = [], False
        for l in open(f"{tmp}/fx-libspf2.out").read().splitlines():
            if l == "StartError": skip = True
            elif l == "EndError": skip = False
            elif not skip: ls.append(l)
        b = [{"(invalid)": "permerror"}.get(ls[i].strip().lower(), ls[i].strip().lower())
             for i in range(0, len(ls) - 3, 4)]
        same = sum(1 for x, y in zip(a, b) if x == y)
        P(f"results: spfcheck and spfquery agree on {same} of {len(a)} pairs here "
          f"(the differences are the ones the harness lists: limits libspf2 does not enforce)")
    except Exception as ex:
        P(f"results not compared: {ex}")
dis = d.get("disagreements", {})
P("")
P(f"disagreements between evaluators: see {results.rsplit('/', 1)[0]}/summary.md")
text = "\n".join(lines)
print(text)
open(out, "w").write(text + "\n")
EOF
