# shellcheck shell=bash disable=SC2154,SC2034  # globals shared with the caller
# Helpers for tests/bench/run_benchmarks.sh, which sources this file: the
# servers it runs, the two load generators, and paired rounds (a reference
# and a measure, back to back, round after round).
#
# Expects: $bin (the Release build), $work (a scratch folder), $seconds and
# $warmup (per load), $results (JSON lines appended here), $summary (the
# summary script), and `set -euo pipefail`.

declare -A pid port
started_ms=0  # how long the last server took to serve

# start NAME COMMAND...: runs a server on a free port, logging to
# $work/NAME.log; sets ${pid[NAME]}, ${port[NAME]} and $started_ms.
start() {
  local name=$1 begin found
  shift
  begin=$(date +%s%N)
  # Emptied here, not only by the child's redirection: the loop below must
  # not read the port of an earlier server of the same name.
  : >"$work/$name.log"
  "$@" --listen=127.0.0.1:0 2>"$work/$name.log" &
  pid[$name]=$!
  for _ in $(seq 1 6000); do
    found=$(sed -n 's/.*serving on .* (port \([0-9]*\)).*/\1/p' \
      "$work/$name.log" 2>/dev/null || true)
    if [ -n "$found" ]; then
      port[$name]=$found
      started_ms=$((($(date +%s%N) - begin) / 1000000))
      return 0
    fi
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then break; fi
    sleep 0.01
  done
  cat "$work/$name.log" >&2
  echo "$name did not start" >&2
  exit 1
}

# stop NAME: ends a server started by start (no-op if none runs).
stop() {
  local p=${pid[$1]:-}
  if [ -n "$p" ]; then
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  fi
  unset "pid[$1]" "port[$1]"
}

# stop_all: ends every server still running (the exit trap calls it).
stop_all() {
  local name
  for name in "${!pid[@]}"; do stop "$name"; done
}

# sessiond NAME DB [FLAGS...]: sessiond on the SQLite store DB, durable
# (synchronous=FULL, the default, said explicitly), its HTTP listener
# (metrics) on a free port; --http_listen= in FLAGS turns it off.
sessiond() {
  local name=$1 db=$2
  shift 2
  start "$name" "$bin/service/sessiond" --store="sqlite:$db" \
    --sqlite_synchronous=FULL --http_listen=127.0.0.1:0 "$@"
}

# fresh NAME TEMPLATE [FLAGS...]: (re)starts sessiond NAME on a copy of the
# store TEMPLATE, so that every round of a measure that writes starts from
# the same store. No server may have TEMPLATE open (a copy of a store in
# use may be torn).
fresh() {
  local name=$1 template=$2 suffix
  shift 2
  stop "$name"
  rm -f "$work/$name.db"*
  for suffix in "" -wal; do
    if [ -e "$template$suffix" ]; then
      cp "$template$suffix" "$work/$name.db$suffix"
    fi
  done
  sessiond "$name" "$work/$name.db" "$@"
}

rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }

# Where a load's result line goes: set by rounds (or by the caller).
measure=""
role=""
round=0

# tagged LINE: LINE (a JSON object) with measure, role and round added.
tagged() {
  echo "{\"measure\": \"$measure\", \"role\": \"$role\", \"round\": $round, ${1#\{}"
}

# sl SERVER MODE CONCURRENCY [sessiond_load FLAGS...]: one sessiond_load run
# against server SERVER; appends its tagged result to $results.
sl() {
  local server=$1 mode=$2 concurrency=$3 line
  shift 3
  if ! line=$("$bin/tests/sessiond_load" \
    --target="127.0.0.1:${port[$server]}" --mode="$mode" \
    --concurrency="$concurrency" --connections=4 --seconds="$seconds" \
    --warmup="$warmup" --label="$server" "$@"); then
    echo "sessiond_load failed against $server; the end of its log:" >&2
    tail -5 "$work/$server.log" >&2
    exit 1
  fi
  tagged "$line" >>"$results"
  echo "  $measure #$round $role: $mode on $server, c=$concurrency: $(
    sed 's/.*"rps": \([0-9]*\).*"p50_us": \([0-9]*\).*"p99_us": \([0-9]*\).*/\1 calls\/s, p50 \2 us, p99 \3 us/' <<<"$line")"
}

# sl_written SERVER MODE CONCURRENCY [FLAGS...]: sl, also counting what the
# server wrote (write(2) bytes, and its log's growth) while loaded.
sl_written() {
  local server=$1
  sl "$@" --server_pid="${pid[$server]}" --server_log="$work/$server.log"
}

# ms SECONDS: SECONDS (a decimal) as whole milliseconds.
ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }

# h2 SERVER PATH BODY CONCURRENCY: one h2load run (4 connections, the
# request BODY replayed); appends its tagged result to $results. Its log
# holds the warm-up's requests too: percentiles leave them out. Its errors
# are the requests h2load saw fail; a gRPC error comes in the trailers of an
# HTTP 200, which h2load does not read, so callers check what it replays.
h2() {
  local out log rps p50 p90 p99 p999 errors
  log="$work/h2load.log"
  rm -f "$log"
  out=$(h2load -c 4 -m $(($4 / 4)) -t 1 --warm-up-time="$(ms "$warmup")ms" \
    -D "$(ms "$seconds")ms" -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "$3" --log-file="$log" \
    "http://127.0.0.1:${port[$1]}$2" 2>&1)
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  # "failed" includes the "errored" and "timeout" requests.
  errors=$(sed -n 's/^requests: .* \([0-9]*\) failed, .*/\1/p' <<<"$out")
  read -r p50 p90 p99 p999 < <(sort -n "$log" |
    awk -F'\t' -v warmup_us="$(ms "$warmup")000" '
      NR == 1 { from = $1 + warmup_us }
      $1 >= from { print $3 }' | sort -n |
    awk '{ v[NR] = $1 } END {
      if (NR == 0) { print 0, 0, 0, 0; exit }
      printf "%d %d %d %d\n", v[int(0.5 * (NR - 1)) + 1],
        v[int(0.9 * (NR - 1)) + 1], v[int(0.99 * (NR - 1)) + 1],
        v[int(0.999 * (NR - 1)) + 1] }')
  tagged "{\"generator\": \"h2load\", \"mode\": \"$2\", \"label\": \"$1\", \"concurrency\": $4, \"connections\": 4, \"rps\": ${rps:-0}, \"p50_us\": $p50, \"p90_us\": $p90, \"p99_us\": $p99, \"p999_us\": $p999, \"errors\": ${errors:-0}}" >>"$results"
  echo "  $measure #$round $role: h2load on $1, c=$4: ${rps:-?} calls/s, p50 $p50 us, p99 $p99 us"
}

# one_round NAME ROUND PREPARE REFERENCE MEASURE: PREPARE, then the
# reference and the measure back to back, tagged as round ROUND of NAME.
one_round() {
  measure=$1 round=$2 role=""
  "$3"
  role=reference
  "$4"
  role=measure
  "$5"
}

# rounds NAME COUNT PREPARE REFERENCE MEASURE: COUNT rounds, each running
# the function PREPARE (untimed setup, `:` for none), then REFERENCE, then
# MEASURE back to back; so drift on the machine lands in both halves of a
# round instead of in their ratio.
rounds() {
  local name=$1 count=$2 r
  for r in $(seq 1 "$count"); do
    one_round "$name" "$r" "$3" "$4" "$5"
  done
}

# together NAME ROUND REFERENCE MEASURE: round ROUND of NAME with the
# reference and the measure loading at the same time, their counted seconds
# aligned (--start_at), each with half the calls in flight. For two servers
# whose calls cost alike, this cancels what back-to-back rounds cannot: the
# machine's speed changing from one second to the next (loads 3 s apart here
# differ by up to 2x), as both halves see the same seconds. Which of the two
# starts first alternates with the round. REFERENCE and MEASURE take
# CONCURRENCY and then sessiond_load flags.
together() {
  measure=$1 round=$2
  local at first
  at=$(awk -v now="$(date +%s.%N)" 'BEGIN { printf "%.3f", now + 2 }')
  if [ $((round % 2)) -eq 1 ]; then
    role=reference "$3" 32 --start_at="$at" &
    first=$!
    role=measure "$4" 32 --start_at="$at"
  else
    role=measure "$4" 32 --start_at="$at" &
    first=$!
    role=reference "$3" 32 --start_at="$at"
  fi
  wait "$first"
}

# rounds_until_settled NAME MIN MAX REFERENCE MEASURE [FIGURE...]: rounds
# run together (above), MIN and then more, up to MAX, until the 95%
# confidence interval of the median of NAME's per-round ratios, or of one of
# the FIGUREs drawn from its rounds, lies on one side of its goal (see
# bench_summary.py settled).
rounds_until_settled() {
  local name=$1 min=$2 max=$3 r
  for r in $(seq 1 "$max"); do
    together "$name" "$r" "$4" "$5"
    if [ "$r" -ge "$min" ] &&
      python3 "$summary" settled "$results" "$name" "${@:6}"; then
      echo "  $name: settled (the median's 95% CI excludes the goal) after $r rounds"
      return 0
    fi
  done
  echo "  $name: not settled (the median's 95% CI includes the goal) after $max rounds"
}
