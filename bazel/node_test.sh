#!/usr/bin/env bash
# Runs a node:test file with the system node, as CTest's node_client_test does.
#
# Usage: node_test.sh TEST_FILE
set -euo pipefail
exec node --test "$1"
