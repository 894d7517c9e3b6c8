#!/usr/bin/env bash
# The baseline server's --commit_to (the suite's durable reference): every
# Ping is answered, after its record is written; the file wraps at
# --commit_file_bytes instead of growing; a write that fails (/dev/full) or a
# sync that fails (/dev/null takes writes but cannot sync) answers INTERNAL,
# never OK; SIGTERM with calls in flight still ends it cleanly; bad flags are
# refused.
#
# Usage: baseline_commit_test.sh BASELINE_SERVER SESSIOND_LOAD
set -euo pipefail

server=$1
load=$2
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/testing/wait_for_port.sh
source "$repo/tests/testing/wait_for_port.sh"
work=$(mktemp -d)
pid=  # the server running, if any: a failed check leaves it to the trap
trap '[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# start FLAGS...: a baseline server; sets $pid and $port.
start() {
  : >"$work/server.log"
  "$server" --listen=127.0.0.1:0 "$@" 2>"$work/server.log" &
  pid=$!
  wait_for_port "$work/server.log" "$pid" || fail "the server did not start"
}
# stop: SIGTERM, which must end it cleanly within 10 s.
stop() {
  kill "$pid"
  # Its output goes nowhere: a sleep holding the test's output open would
  # keep ctest waiting for it.
  (sleep 10 && kill -9 "$pid") >/dev/null 2>&1 &
  local watchdog=$! status=0
  wait "$pid" || status=$?
  kill "$watchdog" 2>/dev/null || true
  pid=
  ((status == 0)) || fail "exit status $status after SIGTERM"
}
# ping SECONDS: one load; sets $calls, $errors and $first_error.
ping() {
  local line
  line=$("$load" --target="127.0.0.1:$port" --mode=ping --seconds="$1" \
    --warmup=0 --concurrency=8 --connections=2)
  echo "ping: $line"
  calls=$(sed -n 's/.*"calls": \([0-9]*\),.*/\1/p' <<<"$line")
  errors=$(sed -n 's/.*"errors": \([0-9]*\),.*/\1/p' <<<"$line")
  first_error=$(sed -n 's/.*"first_error": "\([A-Z_]*\)",.*/\1/p' <<<"$line")
  [ -n "$calls" ] && [ -n "$errors" ] || fail "unreadable result: $line"
}
# refused_commits WHY: every ping failed INTERNAL, and WHY was printed once.
refused_commits() {
  ((calls == 0 && errors > 0)) || fail "failed commits answered OK: $calls calls"
  [ "$first_error" = INTERNAL ] || fail "failed commits answered '$first_error'"
  grep -q "commit failed: .*$1" "$work/server.log" ||
    fail "no error printed: $(cat "$work/server.log")"
  (($(grep -c 'commit failed' "$work/server.log") == 1)) ||
    fail "the error was printed more than once"
}

# Two records of 1,000 bytes fit in 2,500: a third call wraps.
start --commit_to="$work/commits" --commit_record_bytes=1000 \
  --commit_file_bytes=2500
ping 0.3
((calls > 2 && errors == 0)) || fail "committed pings: $calls calls, $errors errors"
size=$(stat -c %s "$work/commits")
((size == 2000)) || fail "the file is $size bytes, not two records wrapping"
stop

start --commit_to=/dev/full
ping 0.3
refused_commits 'pwrite.*No space left'
stop

# /dev/null takes every write but refuses fdatasync: a server that skipped
# the sync would answer OK.
start --commit_to=/dev/null
ping 0.3
refused_commits 'fdatasync.*Invalid argument'
stop

# SIGTERM while calls wait for their commit: it still ends, within stop's
# 10 s (a call left unanswered would hold Server::Shutdown forever).
start --commit_to="$work/commits"
"$load" --target="127.0.0.1:$port" --mode=ping --seconds=2 --warmup=0 \
  --concurrency=64 --connections=2 >"$work/in-flight.log" &
loader=$!
sleep 0.5
stop
wait "$loader" || fail "the load failed: $(cat "$work/in-flight.log")"

for flags in "--commit_to=$work/none/commits" \
  "--commit_to=$work/commits --commit_record_bytes=0" \
  "--commit_to=$work/commits --commit_record_bytes=100 --commit_file_bytes=99"; do
  status=0
  # shellcheck disable=SC2086 # the flags are words
  timeout 10 "$server" --listen=127.0.0.1:0 $flags 2>"$work/refused.log" ||
    status=$?
  ((status == 2)) || fail "$flags: exit status $status, not 2"
  grep -q -- '--commit_to: ' "$work/refused.log" ||
    fail "$flags: no reason given: $(cat "$work/refused.log")"
done

# Without --commit_to: answered at once, as before.
start
ping 0.3
((calls > 0 && errors == 0)) || fail "plain pings: $calls calls, $errors errors"
[ -z "$first_error" ] || fail "no error, yet first_error is '$first_error'"
stop
echo PASS
