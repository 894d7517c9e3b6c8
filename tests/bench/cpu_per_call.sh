#!/usr/bin/env bash
# CPU per call, server and load generator apart: where a durable write's
# cost goes when both share the machine's cores (docs/performance.md, "Why
# durable writes miss 0.5x"). Each run starts a fresh server (sessiond on a
# new SQLite store, or the empty-RPC baseline for `ping`), loads it for
# SECONDS with 64 calls in flight (--in_flight) over 4 connections, and prints calls/s and
# CPU microseconds per call answered: the server's utime + stime from
# /proc/PID/stat, the generator's from /usr/bin/time.
#
# Usage: tests/bench/cpu_per_call.sh [--rounds=N] [--seconds=S] \
#          [--sessions=N] [--in_flight=N] [--generator=h2load] MODE \
#          [SESSIOND FLAGS...]
#   MODE: ping (the baseline), create, validate or revoke (sessiond); flags
#   go to sessiond, e.g. --store=memory. validate and revoke start each
#   round from a fresh copy of one store of N sessions (default 300,000,
#   more than a round revokes), filled once by bench_fill. Expects the
#   Release tree of run_benchmarks.sh (build-release/).
#   --generator=h2load (ping and validate only) loads with h2load as the
#   suite does, replaying one request: a generator so cheap that the
#   server's CPU is most of the machine's, where sessiond_load's own CPU
#   per call is larger than the server's. It reports no generator figure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build-release
rounds=3 seconds=5 sessions=300000 in_flight=64 generator=sessiond_load
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --rounds=*) rounds=${1#*=} ;;
    --seconds=*) seconds=${1#*=} ;;
    --sessions=*) sessions=${1#*=} ;;
    --in_flight=*) in_flight=${1#*=} ;;
    --generator=sessiond_load | --generator=h2load) generator=${1#*=} ;;
    *)
      echo "usage: $0 [--rounds=N] [--seconds=S] [--sessions=N]" \
        "[--in_flight=N] [--generator=h2load] MODE [FLAGS...]" >&2
      exit 2
      ;;
  esac
  shift
done
mode=${1:?usage: $0 [--rounds=N] [--seconds=S] [--sessions=N] [--in_flight=N] [--generator=h2load] MODE [FLAGS...]}
shift
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

load_flags=()
if [ "$generator" = h2load ]; then
  if [ "$mode" != ping ] && [ "$mode" != validate ]; then
    echo "--generator=h2load loads ping or validate only" >&2
    exit 2
  fi
  command -v h2load >/dev/null ||
    { echo "h2load not found (scripts/install-deps --bench)" >&2; exit 1; }
fi
case $mode in
  ping | create) ;;
  validate | revoke)
    # --h2load_dir: the request bodies h2load replays (ping.bin, a
    # ValidateSession of the first token).
    "$bin/tests/bench_fill" --sessions="$sessions" --db="$work/filled.db" \
      --tokens="$work/tokens" --h2load_dir="$work" 2>"$work/fill.log" ||
      { cat "$work/fill.log" >&2; exit 1; }
    rm -f "$work/filled.db-reserve"
    load_flags=(--tokens="$work/tokens")
    ;;
  *) echo "MODE must be ping, create, validate or revoke" >&2; exit 2 ;;
esac

# h2load_round: one load of the server on $port, as the suite's h2 does;
# sets rps and calls (every call answered, counted from the server's start
# of load to its end, the span whose CPU is read).
h2load_round() {
  local out path body=$work/validate-valid.bin ms
  path=/session.v1.SessionService/ValidateSession
  if [ "$mode" = ping ]; then
    path=/sessiond.bench.v1.BaselineService/Ping body=$work/ping.bin
  fi
  ms=$(awk -v s="$seconds" 'BEGIN { printf "%d", s * 1000 }')
  if ! out=$(h2load -c 4 -m $((in_flight / 4)) -t 1 -D "${ms}ms" \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$body" \
    "http://127.0.0.1:$port$path" 2>&1); then
    echo "h2load failed: $out" >&2
    exit 1
  fi
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
  calls=$(sed -n 's/^requests: .* \([0-9]*\) succeeded, \([0-9]*\) failed.*/\1 \2/p' <<<"$out")
  if [ -z "$calls" ] || [ "${calls#* }" != 0 ] || [ "${calls% *}" = 0 ]; then
    echo "h2load: $out" >&2
    exit 1
  fi
  calls=${calls% *}
}

# shellcheck source=tests/bench/replayed_token.sh
source "$root/tests/bench/replayed_token.sh"

if [ "$generator" = h2load ] && [ "$mode" = ping ]; then
  # An empty PingRequest, gRPC-framed: no compression, length 0.
  printf '\0\0\0\0\0' >"$work/ping.bin"
fi

for round in $(seq 1 "$rounds"); do
  rm -f "$work"/store.db* "$work/server.log"
  if [ -e "$work/filled.db" ]; then
    cp "$work/filled.db" "$work/store.db"
    [ ! -e "$work/filled.db-wal" ] || cp "$work/filled.db-wal" "$work/store.db-wal"
  fi
  if [ "$mode" = ping ]; then
    "$bin/tests/baseline_server" --listen=127.0.0.1:0 2>"$work/server.log" &
  else
    "$bin/service/sessiond" --store="sqlite:$work/store.db" \
      --sqlite_synchronous=FULL --http_listen= --listen=127.0.0.1:0 "$@" \
      2>"$work/server.log" &
  fi
  server=$!
  port=""
  for _ in $(seq 1 500); do
    port=$(sed -n 's/.*serving on .* (port \([0-9]*\)).*/\1/p' \
      "$work/server.log" || true)
    [ -n "$port" ] && break
    sleep 0.01
  done
  [ -n "$port" ] || { cat "$work/server.log" >&2; exit 1; }
  before=$(cpu_ticks "$server")
  if [ "$generator" = h2load ]; then
    h2load_round
    # Read before the check's own calls; the check comes after.
    after=$(cpu_ticks "$server")
    [ "$mode" = ping ] ||
      replayed_token_validates "$bin" "$port" "$work/tokens" "$work"
  else
    line=$(/usr/bin/time -f "%U %S" -o "$work/time" "$bin/tests/sessiond_load" \
      --target="127.0.0.1:$port" --mode="$mode" --seconds="$seconds" \
      --warmup=0 --concurrency="$in_flight" --connections=4 "${load_flags[@]}")
    after=$(cpu_ticks "$server")
  fi
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
  if [ "$generator" = h2load ]; then
    awk -v mode="$mode" -v round="$round" -v rps="$rps" -v calls="$calls" \
      -v ticks="$((after - before))" -v hz="$ticks" 'BEGIN {
        printf "%s #%d (h2load): %d calls/s, server %.1f us/call\n",
          mode, round, rps, ticks / hz * 1e6 / calls }'
    continue
  fi
  rps=$(sed 's/.*"rps": \([0-9]*\).*/\1/' <<<"$line")
  read -r user sys <"$work/time"
  awk -v mode="$mode" -v round="$round" -v rps="$rps" -v s="$seconds" \
    -v ticks="$((after - before))" -v hz="$ticks" -v u="$user" -v k="$sys" '
    BEGIN {
      calls = rps * s
      printf "%s #%d: %d calls/s, server %.1f us/call, generator %.1f us/call\n",
        mode, round, rps, ticks / hz * 1e6 / calls, (u + k) * 1e6 / calls
    }'
done
