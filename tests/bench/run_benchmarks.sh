#!/usr/bin/env bash
# The sessiond benchmark suite. Builds a Release build, then measures in one
# run, against an empty-RPC baseline served the same way:
#   - ValidateSession (valid tokens spread over all sessions; unknown tokens),
#     CreateSession and RevokeSession (durable: SQLite, synchronous=FULL),
#     and a 90/5/5 mix, at several concurrencies, with two load generators:
#     h2load (nghttp2) and sessiond_load (gRPC callback client);
#   - Validate at 10k, 100k and 1M live sessions;
#   - resident memory per session and startup time at 1M;
#   - the micro-benchmarks (Google Benchmark).
# Writes bench-results.json (one object per measurement) and prints the
# ratios to the baseline. Absolute figures on a shared 2-core machine move
# from run to run; the ratios are what to compare.
#
# Usage: tests/bench/run_benchmarks.sh [--quick]
#   --quick  1 s per measurement and 10k sessions only (a smoke run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

seconds=${BENCH_SECONDS:-5}
sizes="10000 100000 1000000"
if [ "${1:-}" = "--quick" ]; then
  seconds=1
  sizes="10000"
fi
main_size=$(echo "$sizes" | awk '{print ($2 != "" ? $2 : $1)}')
largest=$(echo "$sizes" | awk '{print $NF}')

scripts/install-deps --bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target sessiond baseline_server \
  sessiond_load bench_fill micro_bench >/dev/null
bin=$root/build-release

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
results=$root/bench-results.json
: >"$work/results.jsonl"

# start NAME COMMAND...: runs a server on a free port; sets $port and $pid,
# and $startup_ms (time until it serves).
start() {
  local name=$1
  shift
  local begin
  begin=$(date +%s%N)
  "$@" --listen=127.0.0.1:0 2>"$work/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 6000); do
    port=$(sed -n 's/.*serving on .* (port \([0-9]*\)).*/\1/p' "$work/$name.log" 2>/dev/null || true)
    if [ -n "$port" ]; then
      startup_ms=$((($(date +%s%N) - begin) / 1000000))
      return 0
    fi
    sleep 0.01
  done
  cat "$work/$name.log" >&2
  echo "$name did not start" >&2
  exit 1
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }

record() { echo "$1" >>"$work/results.jsonl"; }

# load MODE PORT CONCURRENCY LABEL [TOKENS]
load() {
  local line
  line=$("$bin/tests/sessiond_load" --target="127.0.0.1:$2" --mode="$1" \
    --concurrency="$3" --connections=4 --seconds="$seconds" --label="$4" \
    ${5:+--tokens="$5"})
  record "$line"
  echo "  sessiond_load $1 c=$3 $4: $line" | sed 's/{.*"rps": \([0-9]*\).*"p50_us": \([0-9]*\), "p99_us": \([0-9]*\), "p999_us": \([0-9]*\).*/\1 calls\/s, p50 \2 us, p99 \3 us, p99.9 \4 us/'
}

# h2 MODE PORT PATH BODY CONCURRENCY LABEL: h2load, 4 connections.
h2() {
  local out log rps
  log="$work/h2load.log"
  out=$(h2load -c 4 -m $(($5 / 4)) -t 1 -D "$seconds" \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$4" \
    --log-file="$log" "http://127.0.0.1:$2$3" 2>&1)
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  read -r p50 p99 p999 < <(awk -F'\t' '{print $3}' "$log" | sort -n |
    awk '{v[NR] = $1} END {
      if (NR == 0) { print 0, 0, 0; exit }
      i50 = int(0.5 * (NR - 1)) + 1; i99 = int(0.99 * (NR - 1)) + 1;
      i999 = int(0.999 * (NR - 1)) + 1; print v[i50], v[i99], v[i999] }')
  record "{\"generator\": \"h2load\", \"mode\": \"$1\", \"label\": \"$6\", \"concurrency\": $5, \"connections\": 4, \"rps\": ${rps:-0}, \"p50_us\": $p50, \"p99_us\": $p99, \"p999_us\": $p999}"
  echo "  h2load $1 c=$5 $6: ${rps:-?} calls/s, p50 $p50 us, p99 $p99 us, p99.9 $p999 us"
}

echo "== baseline: empty unary RPC (callback API, same build)"
start baseline "$bin/tests/baseline_server"
"$bin/tests/bench_fill" --sessions=1 --db="$work/tiny.db" \
  --tokens="$work/tiny.tokens" --h2load_dir="$work" 2>>"$work/fill.log"
for c in 16 64 256; do load ping "$port" "$c" baseline; done
h2 ping "$port" /sessiond.bench.v1.BaselineService/Ping "$work/ping.bin" 64 baseline
stop

echo "== sessiond with an empty store"
"$bin/tests/bench_fill" --sessions=0 --db="$work/empty.db" \
  --tokens="$work/empty.tokens" 2>>"$work/fill.log"
start empty "$bin/service/sessiond" --store="sqlite:$work/empty.db"
empty_rss=$(rss_bytes "$pid")
stop

for size in $sizes; do
  echo "== sessiond with $size live sessions (SQLite, synchronous=FULL)"
  "$bin/tests/bench_fill" --sessions="$size" --db="$work/s$size.db" \
    --tokens="$work/s$size.tokens" --h2load_dir="$work" 2>>"$work/fill.log"
  start "s$size" "$bin/service/sessiond" --store="sqlite:$work/s$size.db"
  rss=$(rss_bytes "$pid")
  record "{\"measure\": \"startup\", \"sessions\": $size, \"startup_ms\": $startup_ms, \"rss_bytes\": $rss, \"empty_rss_bytes\": $empty_rss}"
  echo "  startup ${startup_ms} ms, RSS $((rss / 1048576)) MB ($(((rss - empty_rss) / size)) bytes per session)"
  load validate "$port" 64 "sessions=$size" "$work/s$size.tokens"
  if [ "$size" = "$main_size" ]; then
    for c in 16 256; do load validate "$port" "$c" "sessions=$size" "$work/s$size.tokens"; done
    load invalid "$port" 64 "sessions=$size"
    h2 validate "$port" /session.v1.SessionService/ValidateSession \
      "$work/validate-valid.bin" 64 "sessions=$size"
    h2 invalid "$port" /session.v1.SessionService/ValidateSession \
      "$work/validate-invalid.bin" 64 "sessions=$size"
    for c in 16 64 256; do load create "$port" "$c" "sessions=$size"; done
    load mixed "$port" 64 "sessions=$size" "$work/s$size.tokens"
    load revoke "$port" 64 "sessions=$size" "$work/s$size.tokens"
  fi
  stop
  rm -f "$work/s$size.db"*
done

echo "== micro-benchmarks"
"$bin/tests/micro_bench" --benchmark_format=json --benchmark_min_time=0.2 \
  2>/dev/null >"$work/micro.json"
grep -E '"(name|real_time)"' "$work/micro.json" | paste - - |
  sed 's/.*"name": "\([^"]*\)".*"real_time": \([0-9.e+]*\).*/  \1: \2 ns/'

python3 - "$work/results.jsonl" "$work/micro.json" "$results" "$main_size" "$largest" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
micro = json.load(open(sys.argv[2])).get("benchmarks", [])
main, largest = sys.argv[4], sys.argv[5]
json.dump({"measurements": rows, "micro": micro}, open(sys.argv[3], "w"), indent=1)

def find(gen, mode, c=64, label=None):
    for r in rows:
        if (r.get("generator") == gen and r.get("mode") == mode and
                r.get("concurrency") == c and (label is None or r.get("label") == label)):
            return r
    return None

print("\n== ratios to the baseline (same generator, concurrency 64)")
base = find("sessiond_load", "ping", 64, "baseline")
h2base = find("h2load", "ping", 64, "baseline")
def ratio(r, b, key="rps"):
    return r[key] / b[key] if r and b and b[key] else float("nan")
label = "sessions=" + main
for gen, b in (("sessiond_load", base), ("h2load", h2base)):
    for mode in ("validate", "invalid", "create", "revoke", "mixed"):
        r = find(gen, mode, 64, label)
        if r:
            print(f"  {gen:13s} {mode:8s}: {r['rps']:8.0f} calls/s = {ratio(r, b):.2f}x baseline "
                  f"({b['rps']:.0f}); p99 {r['p99_us']} us = {ratio(r, b, 'p99_us'):.2f}x baseline's")
small = find("sessiond_load", "validate", 64, "sessions=10000")
big = find("sessiond_load", "validate", 64, "sessions=" + largest)
if small and big and largest != "10000":
    print(f"  validate at {largest} sessions / at 10k: {ratio(big, small):.2f}x "
          f"(p99 {big['p99_us']} vs {small['p99_us']} us)")
for r in rows:
    if r.get("measure") == "startup" and str(r["sessions"]) == largest:
        per = (r["rss_bytes"] - r["empty_rss_bytes"]) / r["sessions"]
        print(f"  {r['sessions']} sessions: {per:.0f} bytes RSS per session; "
              f"serving {r['startup_ms']} ms after start")
print(f"\nresults: {sys.argv[3]}")
PY
