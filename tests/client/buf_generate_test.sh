#!/usr/bin/env bash
# buf.gen.yaml works as docs/other-languages.md says: `buf generate` with the
# plugins Debian installs writes Go, Java, Python and C++ stubs for
# session.v1, and each set compiles (or imports) against Debian's gRPC.
#
# Usage: buf_generate_test.sh BUF_BINARY REPOSITORY_ROOT [GOCACHE_DIR]
# GOCACHE_DIR defaults to a throwaway one.
set -euo pipefail

absolute() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
buf=$(absolute "$1")
repo=$(cd "$2" && pwd)
# Bazel's sandbox allows writes only below $TEST_TMPDIR.
work=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/buf-generate-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
gocache="$work/gocache"
if [ -n "${3:-}" ]; then gocache=$(mkdir -p "$3" && cd "$3" && pwd); fi

# What a user has: buf.gen.yaml beside protos/. Copied, because buf does not
# read a buf.gen.yaml that is a symlink, as it is in Bazel's runfiles.
mkdir -p "$work/src"
cp -L "$repo/buf.gen.yaml" "$work/src/"
cp -RL "$repo/protos" "$work/src/"
export BUF_CACHE_DIR="$work/buf-cache"
(cd "$work/src" && "$buf" generate --output "$work/out")
gen="$work/out/gen"
for file in go/session/v1/session.pb.go go/session/v1/session_grpc.pb.go \
    java/session/v1/SessionOuterClass.java java/session/v1/SessionServiceGrpc.java \
    python/session/v1/session_pb2.py python/session/v1/session_pb2_grpc.py \
    cpp/session/v1/session.pb.cc cpp/session/v1/session.grpc.pb.cc; do
  [ -s "$gen/$file" ] || fail "buf generate wrote no $file"
done
# Health is gRPC's own service: buf.gen.yaml leaves it out.
[ ! -e "$gen/go/grpc" ] || fail "grpc.health.v1 was generated too"

# Go, at the import path buf.gen.yaml's go_package_prefix names.
mkdir -p "$work/gopath/src/example.com/yourapp"
ln -s "$gen" "$work/gopath/src/example.com/yourapp/gen"
GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$work/gopath:/usr/share/gocode" \
  GOCACHE="$gocache" HOME="${HOME:-$work}" \
  go build example.com/yourapp/gen/go/session/v1

# Java, against the jars client/java/build uses, together with client/java:
# the classes must be where that client expects them (session.v1.SessionOuterClass).
jars=
for jar in grpc-api grpc-stub grpc-protobuf protobuf guava geronimo-annotation-1.3-spec; do
  jars+="${jars:+:}/usr/share/java/$jar.jar"
done
find "$gen/java" "$repo/client/java/src" -name '*.java' >"$work/java-sources"
javac -nowarn -encoding UTF-8 -cp "$jars" -d "$work/classes" @"$work/java-sources"

# Python, with Debian's python3-grpcio and python3-protobuf.
PYTHONPATH="$gen/python" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -c '
from session.v1 import session_pb2, session_pb2_grpc
assert session_pb2_grpc.SessionServiceStub
assert session_pb2.CreateSessionRequest(subject="alice").subject == "alice"'

# C++, against Debian's protobuf and gRPC headers.
g++ -std=c++17 -fsyntax-only -I "$gen/cpp" "$gen"/cpp/session/v1/*.cc
echo PASS
