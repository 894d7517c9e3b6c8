#!/usr/bin/env bash
# The Go client (client/go) against the real sessiond: builds the client and
# its example offline in a fresh GOPATH (Debian's Go packages, stubs
# generated from the proto), checks formatting and vet, runs the example's
# login round trip, then the Go tests in tests/client/go (round trip, mTLS,
# deadlines, retries, the net/http middleware).
#
# Usage: go_client_test.sh SESSIOND_BINARY [GOCACHE_DIR]
# GOCACHE_DIR defaults to a throwaway one (a cold build).
set -euo pipefail

absolute() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
sessiond=$(absolute "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/testing/wait_for_port.sh
source "$repo/tests/testing/wait_for_port.sh"
# Bazel's sandbox allows writes only below $TEST_TMPDIR.
work=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/go-client-test.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export GO111MODULE=off GOPROXY=off GOPATH="$work/gopath:/usr/share/gocode"
GOCACHE="$work/gocache"
if [ -n "${2:-}" ]; then GOCACHE=$(mkdir -p "$2" && cd "$2" && pwd); fi
export GOFLAGS= GOCACHE HOME=${HOME:-$work}
"$repo/client/go/make-gopath" "$work/gopath"
mkdir -p "$work/gopath/src/sessiond/tests/client"
ln -s "$repo/tests/client/go" "$work/gopath/src/sessiond/tests/client/go"
packages=(sessiond/client/go/sessiond sessiond/client/go/example sessiond/tests/client/go)

unformatted=$(gofmt -l "$repo/client/go" "$repo/tests/client/go")
[ -z "$unformatted" ] || fail "not gofmt-formatted: $unformatted"
go vet "${packages[@]}"
go build -o "$work/example" sessiond/client/go/example

# The example's round trip, as client/go/README.md shows it.
"$sessiond" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 --store=memory 2>"$work/sessiond.log" &
pid=$!
wait_for_port "$work/sessiond.log" "$pid" || fail "sessiond did not start"
out=$("$work/example" -target "127.0.0.1:$port")
echo "$out"
grep -q '^login:    session [A-Za-z0-9_-]\{22\} for alice$' <<<"$out" || fail "login: $out"
grep -q '^validate: valid=true subject=alice role=admin$' <<<"$out" || fail "validate: $out"
grep -q '^logout:   revoked=true Set-Cookie: __Host-session=; .*Max-Age=0$' <<<"$out" || fail "logout: $out"
grep -q '^validate: valid=false reason=INVALID_REASON_UNKNOWN$' <<<"$out" || fail "after logout: $out"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=

SESSIOND_BINARY=$sessiond SESSIOND_MAKE_TEST_CERTS=$repo/scripts/make-test-certs \
  go test -count=1 -v sessiond/tests/client/go
