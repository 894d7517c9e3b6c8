#!/usr/bin/env bash
# The Java client (client/java) against the real sessiond: builds the client
# and its example offline against Debian's jars, runs the example's login
# round trip (plaintext, then mTLS), checks the error a TLS client gets
# without netty-tcnative's library, then runs the JUnit tests in
# tests/client/java (round trip, mTLS, deadlines, retries, the HttpServer
# handler).
#
# Usage: java_client_test.sh SESSIOND_BINARY
set -euo pipefail

absolute() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
sessiond=$(absolute "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/testing/wait_for_port.sh
source "$repo/tests/testing/wait_for_port.sh"
# Bazel's sandbox allows writes only below $TEST_TMPDIR.
work=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/java-client-test.XXXXXX")
pid=
stop_sessiond() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
cleanup() {
  stop_sessiond
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$repo/client/java/build" "$work/client"
runtime_classpath=$(sed -n 's/^-cp //p' "$work/client/java-args")
library_path=$(sed -n 's/^-Djava.library.path=//p' "$work/client/java-args")

# start FLAGS...: runs sessiond on a free port; sets $pid and $port.
start() {
  # Emptied first: the child truncates it only once running, and until then
  # it holds the port of the server started before.
  : >"$work/sessiond.log"
  "$sessiond" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 --store=memory "$@" 2>"$work/sessiond.log" &
  pid=$!
  wait_for_port "$work/sessiond.log" "$pid" || fail "sessiond did not start"
}

# check_round_trip OUTPUT: the example's four lines, as client/java/README.md shows them.
check_round_trip() {
  echo "$1"
  grep -q '^login:    session [A-Za-z0-9_-]\{22\} for alice$' <<<"$1" || fail "login: $1"
  grep -q '^validate: valid=true subject=alice role=admin$' <<<"$1" || fail "validate: $1"
  grep -q '^logout:   revoked=true Set-Cookie: __Host-session=; .*Max-Age=0$' <<<"$1" ||
    fail "logout: $1"
  grep -q '^validate: valid=false reason=INVALID_REASON_UNKNOWN$' <<<"$1" ||
    fail "after logout: $1"
}

example=sessiond.client.example.LoginExample
start
check_round_trip "$(java @"$work/client/java-args" "$example" "127.0.0.1:$port")"
stop_sessiond

certs="$work/certs"
"$repo/scripts/make-test-certs" "$certs" 2>/dev/null
start --tls_cert="$certs/server.pem" --tls_key="$certs/server.key" \
  --tls_client_ca="$certs/ca.pem"
mtls=("127.0.0.1:$port" "$certs/ca.pem" "$certs/login.pem" "$certs/login.key")
check_round_trip "$(java @"$work/client/java-args" "$example" "${mtls[@]}")"
# Without netty-tcnative's library, TLS must fail with a message that says
# what to do, not netty's "JDK provider does not support ALPN protocol".
if out=$(java -cp "$runtime_classpath" "$example" "${mtls[@]}" 2>&1); then
  fail "TLS worked without libnetty_tcnative.so: $out"
fi
grep -q 'IllegalStateException: sessiond: TLS needs ALPN.*netty-tcnative' <<<"$out" ||
  fail "TLS without netty-tcnative: $out"
stop_sessiond

# The JUnit tests.
junit=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
mkdir -p "$work/test-classes"
find "$repo/tests/client/java" -name '*.java' >"$work/test-sources"
javac -encoding UTF-8 -Xlint:all,-classfile,-processing -Werror \
  -cp "$runtime_classpath:$junit" -d "$work/test-classes" @"$work/test-sources"
tests=$(sed -n 's|.*/tests/client/java/\(.*Test\)\.java$|\1|p' "$work/test-sources" | tr / .)
# shellcheck disable=SC2086  # one argument per test class
SESSIOND_BINARY=$sessiond SESSIOND_MAKE_TEST_CERTS=$repo/scripts/make-test-certs \
  java -Djava.library.path="$library_path" \
  -cp "$work/test-classes:$runtime_classpath:$junit" org.junit.runner.JUnitCore $tests
