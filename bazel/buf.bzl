"""Tests that need buf, the proto linter and gRPC client from npm.

buf is not a Debian package: `npm ci` (package.json, package-lock.json) puts
its static binary in node_modules/. The binary is a declared input of the
tests, found by glob, so Bazel notices when npm installs or updates it. Like
CMake, the build defines these tests only once buf is installed, and otherwise
says why they are missing; scripts/test runs `npm ci` first and names them,
so there they cannot go missing unnoticed.
"""

def buf_tests(name = "buf"):
    """Defines :buf_lint and :buf_curl_test in the root package, if buf is installed.

    Args:
      name: of the filegroup holding the buf binary.
    """
    buf = native.glob(
        ["node_modules/@bufbuild/buf-linux-*/bin/buf"],
        allow_empty = True,
    )
    if not buf:
        # buildifier: disable=print
        print("buf not found in node_modules (run `npm ci`): " +
              "skipping //:buf_lint and //:buf_curl_test")
        return
    native.filegroup(name = name, srcs = buf[:1])
    buf_path = "$(rootpath :%s)" % name

    # `buf lint protos` (STANDARD rules, protos/buf.yaml).
    native.sh_test(
        name = "buf_lint",
        size = "small",
        srcs = ["//bazel:buf_lint_test.sh"],
        args = [
            buf_path,
            "$(rootpath //protos:buf.yaml)",
        ],
        data = [
            ":" + name,
            "//protos:buf.yaml",
            "//protos:buf_module",
        ],
    )

    # Create, validate, revoke through `buf curl` and server reflection alone.
    native.sh_test(
        name = "buf_curl_test",
        size = "medium",
        # The script can read sessiond's log before the background process
        # has created it, and under `set -e` that failed read ends the test
        # (1 run in about 80 here). Retried until the script is fixed.
        flaky = True,
        srcs = ["//tests:buf_curl_test.sh"],
        args = [
            "$(rootpath //service:sessiond)",
            buf_path,
        ],
        data = [
            ":" + name,
            "//service:sessiond",
        ],
    )
