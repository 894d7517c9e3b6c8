#!/usr/bin/env bash
# sessiond_load times only the answer its mode is about: against a real
# sessiond on a small store, valid tokens validate without errors, while
# tokens of another store (well-formed, of no session here) are errors, not
# calls; `invalid` is the reverse; a second Revoke of the same tokens is an
# error. (The suite once timed "Validate" on a store whose sessions had all
# expired: every call was an OK status with valid=false, the cheaper path.)
#
# Usage: sessiond_load_test.sh SESSIOND SESSIOND_LOAD BENCH_FILL
set -euo pipefail

sessiond=$1
load=$2
fill=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/testing/wait_for_port.sh
source "$repo/tests/testing/wait_for_port.sh"
work=$(mktemp -d)
pid=
cleanup() {
  [ -z "$pid" ] || { kill -9 "$pid" && wait "$pid"; } 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$fill" --sessions=40 --db="$work/served.db" --tokens="$work/served.tokens" 2>/dev/null
"$fill" --sessions=40 --db="$work/other.db" --tokens="$work/other.tokens" 2>/dev/null
"$sessiond" --store="sqlite:$work/served.db" --listen=127.0.0.1:0 --http_listen= \
  2>"$work/sessiond.log" &
pid=$!
wait_for_port "$work/sessiond.log" "$pid" || fail "sessiond did not start"

# load MODE TOKENS [SECONDS]: one short run (0.3 s unless said); sets $calls
# and $errors.
load() {
  local line
  line=$("$load" --target="127.0.0.1:$port" --mode="$1" --tokens="$2" \
    --seconds="${3:-0.3}" --warmup=0 --concurrency=4 --connections=1)
  echo "$1 $(basename "$2"): $line"
  calls=$(sed -n 's/.*"calls": \([0-9]*\),.*/\1/p' <<<"$line")
  errors=$(sed -n 's/.*"errors": \([0-9]*\),.*/\1/p' <<<"$line")
  [ -n "$calls" ] && [ -n "$errors" ] || fail "unreadable result: $line"
}

load validate "$work/served.tokens"
((calls > 0 && errors == 0)) || fail "valid tokens: $calls calls, $errors errors"
load validate "$work/other.tokens"
((calls == 0 && errors > 0)) || fail "tokens of no session timed as valid: $calls calls"
load invalid "$work/served.tokens"
((calls > 0 && errors == 0)) || fail "invalid mode: $calls calls, $errors errors"
# Until the tokens run out: 40 durable revokes, 4 at a time, once took more
# than 0.3 s on a busy disk, and the second run then revoked the rest.
load revoke "$work/served.tokens" 60
((calls == 40 && errors == 0)) || fail "first revokes: $calls calls, $errors errors"
load revoke "$work/served.tokens" 60
((calls == 0 && errors > 0)) || fail "revokes of revoked sessions timed: $calls calls"
echo PASS
