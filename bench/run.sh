#!/usr/bin/env bash
# bench/run.sh - spfcheck beside the SPF evaluators mail administrators run
# today (libspf2's spfquery, pyspf, Mail::SPF, pypolicyd-spf), measured in
# one run on one generated zone over a link with added latency.
#
#   bash bench/run.sh [--quick]
#
# Uses the shared harness (../shared/bench, or $SPFBENCH_DIR): it installs
# the peers and nsd, builds the zone (1000 sender domains shaped like real
# ones), starts DNS inside a private network namespace (loopback only) with
# a direct (~0 ms) and a delayed (~5 ms) server, and runs every evaluator.
# spfcheck takes part as `spfcheck batch --brief`.  Then spfcheck alone:
# warm-cache throughput, instructions per warm evaluation (callgrind),
# per-evaluation latency percentiles inside a batch.
#
# Prints one table with ratios to spfcheck and writes it to
# $SPFBENCH_RUN/bench-summary.md.  Needs root (network namespace).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SPFBENCH_DIR:-$ROOT/../shared/bench}"
export SPFBENCH_RUN="${SPFBENCH_RUN:-$ROOT/bench/run}"
RUNS=5; LATRUNS=11
[ "${1:-}" = "--quick" ] && { RUNS=1; LATRUNS=3; }
PY=/usr/bin/python3

[ -d "$SHARED" ] || { echo "bench: no harness at $SHARED (set SPFBENCH_DIR)" >&2; exit 2; }
mkdir -p "$SPFBENCH_RUN"
bash "$ROOT/bootstrap.sh"
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
SPF="$ROOT/build/cmd/spfcheck"

echo "bench: setting up the harness (namespace, nsd, peers) in $SPFBENCH_RUN" >&2
bash "$SHARED/setup.sh" >&2

echo "bench: all evaluators, $RUNS runs ($LATRUNS for latency)" >&2
bash "$SHARED/run_peers.sh" --runs "$RUNS" --lat-runs "$LATRUNS" \
  --add-peer "spfcheck pairs lines $SPF batch --brief --concurrency 256" >&2
RESULTS="$SPFBENCH_RUN/results/latest/results.json"

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

"$PY" - "$RESULTS" "$tmp" "$SPFBENCH_RUN/bench-summary.md" <<'EOF'
import json, statistics, sys, re
results, tmp, out = sys.argv[1], sys.argv[2], sys.argv[3]
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
P("| evaluator | one deep evaluation at 5 ms RTT, ms (lat5 - startup) | startup ms | x (depth x RTT = 10 x 5.3 ms) |")
P("|---|---:|---:|---:|")
for p in peers:
    l5 = rows.get(("lat5", p)); st = rows.get(("startup", p))
    if not l5 or not st: continue
    v = (med([r["wall_s"] for r in l5]) - med([r["wall_s"] for r in st])) * 1000
    P(f"| {p} | {v:.1f} | {med([r['wall_s'] for r in st]) * 1000:.1f} | {v / 53.0:.2f} |")
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
dis = d.get("disagreements", {})
P("")
P(f"disagreements between evaluators: see {results.rsplit('/', 1)[0]}/summary.md")
text = "\n".join(lines)
print(text)
open(out, "w").write(text + "\n")
EOF
