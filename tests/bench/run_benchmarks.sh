#!/usr/bin/env bash
# The sessiond benchmark suite. Builds a Release build, then measures, each
# figure as the median of several rounds, a round being a reference and the
# measure back to back (an empty-RPC baseline unless said otherwise), so that
# drift on a shared machine lands in both halves of a round, not in a ratio:
#   - ValidateSession (valid tokens over all sessions; unknown tokens; with
#     h2load too), Envoy's ext_authz Check vs ValidateSession,
#     CreateSession (a new subject per call) and RevokeSession, durable
#     (SQLite, synchronous=FULL), and a 90/5/5 mix, vs the baseline
#     (sessiond with its metrics on, as by default); CreateSession on the
#     memory store too, what is left of a create when nothing is written;
#     and the baseline's own empty RPC answered after a group commit
#     (baseline_server --commit_to), a reference for durable writes
#     answered that way on this host;
#   - ValidateSession with metrics on (--http_listen) vs off (empty);
#   - CreateSession for one subject at the per-subject cap (100, each create
#     evicting the oldest) vs the baseline;
#   - CreateSession for a subject holding 100k sessions / for new subjects;
#   - Validate at 1M sessions / at 10k, both loaded at the same time in
#     each round, as calls per second and as calls per second of each
#     server's CPU, in rounds until the spread of either is smaller than its
#     median's distance from the goal, 0.95x (or at most 21 rounds);
#   - bytes sessiond writes per Create and per Revoke (write(2), log
#     excluded), resident memory per session and startup time at 1M;
#   - calls per second at 1, 4, 16, 64 and 256 calls in flight, one run each;
#   - the micro-benchmarks (Google Benchmark).
# Writes bench-results.json (one object per measurement) and
# bench-results.md (the tables of docs/performance.md), and draws the
# pictures into docs/images/. Takes about 15 minutes on 2 cores.
#
# Usage: tests/bench/run_benchmarks.sh [--quick | --metrics | --only=check]
#   --quick       a 1-2 minute smoke run: 1 s loads, 2 rounds, 10k sessions
#                 (100k at most); pictures into build-release/bench-images/
#   --metrics     only Validate vs baseline and Validate with metrics on vs
#                 off (full-length rounds, about 2 minutes); no pictures
#   --only=check  the Check vs ValidateSession measure alone (about a
#                 minute and a half): its summary, no files written
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
begin=$(date +%s)

quick=false metrics_only=false
only=""
for arg in "$@"; do
  case $arg in
    --quick) quick=true ;;
    --metrics) metrics_only=true ;;
    --only=check) only=check ;;
    *) echo "usage: $0 [--quick | --metrics | --only=check]" >&2; exit 2 ;;
  esac
done
concurrencies="1 4 16 64 256"
if $quick; then
  seconds=1 warmup=0.2 curve_seconds=0.5 count=2 few=2
  small=10000 main=10000 largest=100000 subject_size=10000
  settle_min=2 settle_max=3
  images=$root/build-release/bench-images
else
  seconds=3 warmup=0.5 curve_seconds=2 count=7 few=5
  small=10000 main=100000 largest=1000000 subject_size=100000
  settle_min=7 settle_max=21
  images=$root/docs/images
fi
seconds=${BENCH_SECONDS:-$seconds}
count=${BENCH_ROUNDS:-$count}

scripts/install-deps --bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j2 --target sessiond baseline_server \
  sessiond_load bench_fill micro_bench >/dev/null
bin=$root/build-release
summary=$root/tests/bench/bench_summary.py

work=$(mktemp -d)
results=$work/results.jsonl
: >"$results"
# shellcheck source=tests/bench/bench_lib.sh
source "$root/tests/bench/bench_lib.sh"
# shellcheck source=tests/bench/replayed_token.sh
source "$root/tests/bench/replayed_token.sh"
trap 'stop_all; rm -rf "$work"' EXIT
section() { echo "== [$(($(date +%s) - begin)) s] $*"; }
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)

# fill NAME SESSIONS [bench_fill FLAGS...]: a store $work/stores/NAME.db
# (servers run on copies of it: see fresh) and its tokens, $work/NAME.tokens.
mkdir "$work/stores"
fill() {
  "$bin/tests/bench_fill" --sessions="$2" --db="$work/stores/$1.db" \
    --tokens="$work/$1.tokens" "${@:3}" 2>>"$work/fill.log"
  rm -f "$work/stores/$1.db-reserve"
}

validate() { sl main validate 64 --tokens="$work/main.tokens"; }
# What Envoy asks for each request: the same sessions, by cookie.
check() { sl main check 64 --tokens="$work/main.tokens"; }

if [ "$only" = check ]; then
  section "filling a store of $main sessions"
  fill main "$main"
  fresh main "$work/stores/main.db"
  section "Check vs Validate ($main sessions)"
  rounds check "$count" : validate check
  stop main
  python3 "$summary" one "$results" check "$main"
  exit 0
fi

section "filling stores"
revoke_size=$((3 * main))  # more than a round can revoke
fill main "$main" --h2load_dir="$work"
if ! $metrics_only; then
  fill empty 0
  fill small "$small"
  fill revoke "$revoke_size"
  fill subject "$subject_size" --one_subject=big
  fill largest "$largest"
fi

section "servers"
start baseline "$bin/tests/baseline_server"
if ! $metrics_only; then
  fresh empty "$work/stores/empty.db"
  empty_rss=$(rss_bytes "${pid[empty]}")
  stop empty
fi
fresh main "$work/stores/main.db"

# The halves of rounds: each function is one load.
ping() { sl baseline ping 64; }
h2_ping() {
  h2 baseline /sessiond.bench.v1.BaselineService/Ping "$work/ping.bin" 64
}
validate_metrics_off() {
  sl main_off validate 64 --tokens="$work/main.tokens"
}
h2_validate() {
  h2 main /session.v1.SessionService/ValidateSession \
    "$work/validate-valid.bin" 64
  replayed_token_validates "$bin" "${port[main]}" "$work/main.tokens" "$work"
}
invalid() { sl main invalid 64; }
writer_main() { fresh writer "$work/stores/main.db"; }
writer_revoke() { fresh writer "$work/stores/revoke.db"; }
writer_subject() {
  fresh writer "$work/stores/subject.db" --max_sessions_per_subject=1000000
}
# The same creates with nothing written: the part of a durable create that
# is the call itself (token, index, answer), which no store can remove.
writer_memory() {
  stop memory
  start memory "$bin/service/sessiond" --store=memory \
    --http_listen=127.0.0.1:0
}
create() { sl_written writer create 64; }
create_memory() { sl memory create 64; }
# The empty RPC answered as a durable write is: after its record is written
# and fdatasync()ed with the others of its batch, from another thread: the
# reference Create and Revoke are read against.
committed_ping() { sl committed ping 64; }
create_capped() { sl writer create 64 --subject=capped; }
create_big() { sl writer create 64 --subject=big; }
revoke() { sl_written writer revoke 64 --tokens="$work/revoke.tokens"; }
mixed() { sl writer mixed 64 --tokens="$work/main.tokens"; }
# CONCURRENCY [FLAGS...]: run together (bench_lib.sh), half the calls each.
# With each server's CPU over the counted seconds (sl_written).
validate_small() {
  sl_written small validate "$1" --tokens="$work/small.tokens" "${@:2}"
}
validate_largest() {
  sl_written largest validate "$1" --tokens="$work/largest.tokens" "${@:2}"
}

section "Validate vs baseline, Check vs Validate ($main sessions)"
rounds validate "$count" : ping validate

section "Validate, metrics off vs on ($main sessions)"
fresh main_off "$work/stores/main.db" --http_listen=
rounds validate_metrics "$count" : validate_metrics_off validate
stop main_off

if $metrics_only; then
  stop main
  stop baseline
  echo '{}' >"$work/micro.json"
else
rounds validate_h2load "$count" : h2_ping h2_validate
rounds invalid "$few" : ping invalid
rounds check "$count" : validate check

section "Create, Revoke, Create at the cap, the mix vs baseline"
rounds create "$count" writer_main ping create
rounds create_memory "$count" writer_memory ping create_memory
stop memory
start committed "$bin/tests/baseline_server" --commit_to="$work/commits" \
  --commit_record_bytes=1400
rounds committed_ping "$count" : ping committed_ping
stop committed
rounds revoke "$count" writer_revoke ping revoke
rounds create_at_cap "$count" writer_main ping create_capped
rounds mixed "$few" writer_main ping mixed

section "Create for a subject holding $subject_size sessions / for new ones"
rounds create_big_subject "$count" writer_subject create create_big
stop writer

section "calls per second by calls in flight"
saved_seconds=$seconds
seconds=$curve_seconds
measure=curve
for c in $concurrencies; do
  round=$c
  role=ping sl baseline ping "$c"
  role=validate sl main validate "$c" --tokens="$work/main.tokens"
  writer_main
  role=create sl writer create "$c"
  writer_revoke
  role=revoke sl writer revoke "$c" --tokens="$work/revoke.tokens"
done
seconds=$saved_seconds
stop writer
stop main

section "Validate at $largest sessions / at $small"
fresh small "$work/stores/small.db"
fresh largest "$work/stores/largest.db"
measure=startup round=0 role=""
tagged "{\"sessions\": $largest, \"startup_ms\": $started_ms, \"rss_bytes\": $(rss_bytes "${pid[largest]}"), \"empty_rss_bytes\": $empty_rss}" >>"$results"
echo "  started in $started_ms ms"
rounds_until_settled validate_largest "$settle_min" "$settle_max" \
  validate_small validate_largest validate_largest_cpu
stop largest
stop small
stop baseline

section "micro-benchmarks"
micro_flags=(--benchmark_min_time=0.2)
if $quick; then  # the cheap ones: filling 1M sessions is most of the rest
  micro_flags=(--benchmark_min_time=0.01 --benchmark_filter='Parse|Junk|Hash|/10000$')
fi
"$bin/tests/micro_bench" --benchmark_format=json "${micro_flags[@]}" \
  2>/dev/null >"$work/micro.json"
fi  # not $metrics_only

duration=$(($(date +%s) - begin))
cat >"$work/meta.json" <<EOF
{"command": "tests/bench/run_benchmarks.sh${1:+ $1}",
 "date": "$(date -u +%Y-%m-%dT%H:%MZ)",
 "commit": "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- service || echo ' (service/ changed)')",
 "machine": "$(nproc) cores ($(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 2^20}' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")",
 "loadavg_start": "$loadavg_start", "loadavg_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
 "duration_s": $duration, "seconds_per_load": $seconds, "warmup_s": $warmup,
 "main": $main, "small": $small, "largest": $largest,
 "subject_size": $subject_size, "revoke_size": $revoke_size}
EOF
echo
python3 "$summary" report "$results" "$work/micro.json" "$work/meta.json" \
  "$root/bench-results.json" "$root/bench-results.md"
if $metrics_only; then
  echo "results: bench-results.json, bench-results.md"
  exit 0
fi
# Debian's matplotlib (scripts/install-deps --bench) is Debian's python's.
/usr/bin/python3 "$root/tests/bench/bench_plots.py" "$root/bench-results.json" \
  "$images"
echo "results: bench-results.json, bench-results.md; pictures: $images"
