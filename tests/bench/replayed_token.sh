# shellcheck shell=bash
# Sourced by tests/bench/run_benchmarks.sh and tests/bench/cpu_per_call.sh.
#
# replayed_token_validates BIN PORT TOKENS SCRATCH: h2load cannot read a
# verdict, and replays the first token of TOKENS (bench_fill writes it into
# the request h2load sends). After h2load's rounds of ValidateSession on the
# sessiond at 127.0.0.1:PORT, that token must still validate, or the rounds
# timed another path (an expired session, an error from a flag): then this
# says so and exits. BIN is the Release tree, SCRATCH a folder to write in.
replayed_token_validates() {
  local line
  head -1 "$3" >"$4/replayed.token"
  line=$("$1/tests/sessiond_load" --target="127.0.0.1:$2" \
    --mode=validate --tokens="$4/replayed.token" --seconds=0.2 \
    --warmup=0 --concurrency=1 --connections=1)
  if ! grep -q '"calls": [1-9][0-9]*, "errors": 0,' <<<"$line"; then
    echo "the token h2load replays no longer validates: its rounds timed" \
      "another path ($line)" >&2
    exit 1
  fi
}
