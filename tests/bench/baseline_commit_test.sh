#!/usr/bin/env bash
# The baseline server's --commit_to (the suite's durable ceiling): every Ping
# is answered, after its record is written; the file wraps at
# --commit_file_bytes instead of growing; a write that fails (/dev/full)
# answers INTERNAL, counted as errors, never OK; bad flags are refused.
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
# stop: SIGTERM, which must end it cleanly.
stop() {
  kill "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=
  ((status == 0)) || fail "exit status $status after SIGTERM"
}
# ping SECONDS: one load; sets $calls and $errors.
ping() {
  local line
  line=$("$load" --target="127.0.0.1:$port" --mode=ping --seconds="$1" \
    --warmup=0 --concurrency=8 --connections=2)
  echo "ping: $line"
  calls=$(sed -n 's/.*"calls": \([0-9]*\),.*/\1/p' <<<"$line")
  errors=$(sed -n 's/.*"errors": \([0-9]*\),.*/\1/p' <<<"$line")
  [ -n "$calls" ] && [ -n "$errors" ] || fail "unreadable result: $line"
}

# 65 records of 1,000 bytes fit in 65,536: more calls than that wrap.
start --commit_to="$work/commits" --commit_record_bytes=1000 \
  --commit_file_bytes=65536
ping 0.5
((calls > 65 && errors == 0)) || fail "committed pings: $calls calls, $errors errors"
size=$(stat -c %s "$work/commits")
((size == 65000)) || fail "the file is $size bytes, not 65 records wrapping"
stop

start --commit_to=/dev/full
ping 0.3
((calls == 0 && errors > 0)) || fail "failed commits answered OK: $calls calls"
grep -q 'commit failed: .*No space left' "$work/server.log" ||
  fail "no error printed: $(cat "$work/server.log")"
(($(grep -c 'commit failed' "$work/server.log") == 1)) ||
  fail "the error was printed more than once"
stop

for flags in "--commit_to=$work/none/commits" \
  "--commit_to=$work/commits --commit_record_bytes=0" \
  "--commit_to=$work/commits --commit_record_bytes=100 --commit_file_bytes=99"; do
  status=0
  # shellcheck disable=SC2086 # the flags are words
  "$server" --listen=127.0.0.1:0 $flags 2>"$work/refused.log" || status=$?
  ((status == 2)) || fail "$flags: exit status $status, not 2"
  grep -q -- '--commit_to: ' "$work/refused.log" ||
    fail "$flags: no reason given: $(cat "$work/refused.log")"
done

# Without --commit_to: answered at once, as before.
start
ping 0.3
((calls > 0 && errors == 0)) || fail "plain pings: $calls calls, $errors errors"
stop
echo PASS
