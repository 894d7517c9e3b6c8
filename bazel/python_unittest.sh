#!/usr/bin/env bash
# Runs Python unittest discovery as CTest's python_client_test does, with
# Debian's python3: its site packages hold python3-grpcio and the rest, which
# a pyenv or venv python3 earlier on PATH would lack.
#
# Usage: python_unittest.sh TEST_DIR PYTHONPATH_DIR...
set -euo pipefail
test_dir=$1
shift
python=/usr/bin/python3
[ -x "$python" ] || python=python3
paths=()
for dir in "$@"; do paths+=("$PWD/$dir"); done
PYTHONPATH=$(IFS=:; echo "${paths[*]}")
# The runfiles tree is Bazel's, not a place for __pycache__.
export PYTHONPATH PYTHONDONTWRITEBYTECODE=1
exec "$python" -m unittest discover -s "$test_dir" -p "*_test.py"
