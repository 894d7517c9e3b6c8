# Sourced by the shell tests that start sessiond with --listen=127.0.0.1:0
# and need the port it picked.
#
# wait_for_port LOG PID: sets $port to the port that the server with process
# id PID, its stderr going to LOG, says it serves on. Fails, with LOG on
# stderr, when that process ends first or 30 seconds pass. A LOG used by an
# earlier server must be emptied before the new one starts (`: >LOG`), or its
# old port may be read before the child's redirection truncates it.
wait_for_port() {
  local log=$1 pid=$2
  port=
  for _ in $(seq 1 300); do
    # The child's `2>LOG` may not have made LOG yet: a missing file means
    # "not yet". Read unguarded, it fails, and under `set -e` that failed
    # read ends the calling test.
    port=$(sed -n 's/.*serving on .* (port \([0-9]*\)).*/\1/p' "$log" 2>/dev/null || true)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server (pid $pid) did not start:" >&2
  cat "$log" >&2 2>/dev/null || true
  return 1
}
