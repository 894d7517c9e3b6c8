"""Compiler options for sessiond's own code."""

# Warnings for our code only (generated protobuf code is not ours to fix),
# as CMake's sessiond_warnings.
SESSIOND_COPTS = [
    "-Wall",
    "-Wextra",
]
