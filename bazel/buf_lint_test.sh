#!/usr/bin/env bash
# `buf lint` of the protos module as a Bazel test, run in the runfiles tree.
#
# Usage: buf_lint_test.sh BUF_BINARY PATH_TO_BUF_YAML
set -euo pipefail
exec "$1" lint "$(dirname "$2")"
