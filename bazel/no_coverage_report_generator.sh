#!/usr/bin/env bash
# Stands in for Bazel's coverage report generator, which the offline build
# cannot download (see BUILD.bazel); only `bazel coverage` ever runs it.
echo "coverage reports are not available in sessiond's offline Bazel build" >&2
exit 1
