#!/usr/bin/env bash
# wait_for_port (tests/testing/wait_for_port.sh) under `set -e`: a log that
# the child makes only after a while is waited for, not a failed read that
# ends the script (the client tests failed that way about once in 80 runs);
# a child that exits without serving fails at once, with its log.
set -euo pipefail

# Bazel runs this script as //tests:wait_for_port_test, not from
# tests/testing/, and says where the source tree is.
repo=${SESSIOND_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/testing/wait_for_port.sh
source "$repo/tests/testing/wait_for_port.sh"
work=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/wait-for-port-test.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The log appears half a second after the child starts, as when the shell
# has not yet run the child's redirection. Called outside any condition, so
# that `set -e` applies inside (stricter than the tests' `|| fail`, which
# turns it off there).
bash -c 'sleep 0.5; exec 2>"$1"; echo "I serving on 127.0.0.1:0 (port 4242)" >&2; sleep 30' \
  _ "$work/late.log" &
pids+=($!)
wait_for_port "$work/late.log" "$!"
[ "$port" = 4242 ] || fail "late log: port '$port', want 4242"

# A child that exits before serving: a failure within seconds, not 30, with
# what it wrote.
bash -c 'echo "E bad flag" >&2; exit 1' 2>"$work/exited.log" &
pids+=($!)
begin=$SECONDS
if wait_for_port "$work/exited.log" "$!" 2>"$work/out"; then
  fail "an exited child gave port $port"
fi
grep -q 'E bad flag' "$work/out" || fail "the log is not shown: $(cat "$work/out")"
((SECONDS - begin < 10)) || fail "waited $((SECONDS - begin)) s for an exited child"
echo PASS
