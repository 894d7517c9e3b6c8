#!/usr/bin/env bash
# The installed CMake package works for another project: `cmake --install`
# into a fresh prefix, build client/examples/cpp against it with
# find_package(sessiond), and run the result against a real sessiond.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR SESSIOND_BINARY
set -euo pipefail

build=$1
source=$2
sessiond=$3
# shellcheck source=tests/testing/wait_for_port.sh
source "$source/tests/testing/wait_for_port.sh"
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install"; }
for f in lib/cmake/sessiond/sessiondConfig.cmake \
         include/sessiond/client/client.h \
         include/sessiond/session/v1/session.pb.h \
         include/sessiond/session/v1/session.grpc.pb.h \
         share/sessiond/protos/session/v1/session.proto bin/sessionctl; do
  [ -e "$work/prefix/$f" ] || fail "not installed: $f"
done

# Only the prefix: the consumer must not see this source or build tree.
cmake -S "$source/client/examples/cpp" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "configuring the consumer"; }
cmake --build "$work/consumer" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the consumer"; }
grep -q -e "$source/client" -e "$build/gen" "$work/consumer/CMakeFiles/login_example.dir/flags.make" &&
  fail "the consumer compiled against the source or build tree"

"$sessiond" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 --store=memory 2>"$work/sessiond.log" &
pid=$!
wait_for_port "$work/sessiond.log" "$pid" || fail "sessiond did not start"

out=$("$work/consumer/login_example" "127.0.0.1:$port") || fail "login_example: $out"
grep -q '^valid: 1, subject: alice$' <<<"$out" || fail "unexpected: $out"
grep -q '^revoked: 1$' <<<"$out" || fail "unexpected: $out"
"$work/prefix/bin/sessionctl" --target="127.0.0.1:$port" health >/dev/null ||
  fail "installed sessionctl"
echo PASS
