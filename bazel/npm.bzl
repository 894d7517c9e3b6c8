"""Tests that need packages from npm: buf, and the Node client's @grpc modules.

These are not Debian packages: `npm ci` (package.json, package-lock.json) puts
them in node_modules/. Like CMake, the build defines these tests only once
they are installed (found by glob, so Bazel notices when npm adds them), and
otherwise says why they are missing; scripts/test runs `npm ci` first and
names them, so there they cannot go missing unnoticed.
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

    # buf's static binary is a declared input of the tests.
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
        srcs = ["//tests:api/buf_curl_test.sh"],
        args = [
            "$(rootpath //service:sessiond)",
            buf_path,
        ],
        data = [
            ":" + name,
            "//service:sessiond",
            "//tests:testing/wait_for_port.sh",
        ],
        env = {"SESSIOND_SOURCE_DIR": "."},
    )

def buf_generate_test(name = "buf_generate_test"):
    """Defines :buf_generate_test in the root package, if buf is installed.

    `buf generate` with buf.gen.yaml and Debian's plugins; every set of stubs
    is compiled (tests/client/buf_generate_test.sh).

    Args:
      name: of the test.
    """
    buf = native.glob(
        ["node_modules/@bufbuild/buf-linux-*/bin/buf"],
        allow_empty = True,
    )
    if not buf:
        # buildifier: disable=print
        print("buf not found in node_modules (run `npm ci`): skipping //:" + name)
        return
    native.filegroup(name = name + "_buf", srcs = buf[:1])
    native.sh_test(
        name = name,
        size = "medium",
        srcs = ["//tests/client:buf_generate_test.sh"],
        # The working directory is the runfiles tree: the repository's root.
        args = [
            "$(rootpath :%s_buf)" % name,
            ".",
        ],
        data = [
            ":%s_buf" % name,
            "buf.gen.yaml",
            "//client:java_client",
            "//protos:buf_module",
        ],
    )

def node_client_test(name = "node_client_test"):
    """Defines the Node client's test in the root package, if npm installed its modules.

    node resolves modules from the real path of the test file, so the test
    reads client/node and node_modules/ from the source tree; only the files
    listed as data are tracked for reruns.

    Args:
      name: of the test.
    """
    modules = native.glob(
        [
            "node_modules/@grpc/grpc-js/package.json",
            "node_modules/@grpc/proto-loader/package.json",
        ],
        allow_empty = True,
    )
    if len(modules) < 2:
        # buildifier: disable=print
        print("@grpc/grpc-js or @grpc/proto-loader not found in node_modules " +
              "(run `npm ci`): skipping //:" + name)
        return
    native.sh_test(
        name = name,
        size = "medium",
        srcs = ["//bazel:node_test.sh"],
        args = ["$(rootpath //tests/client:node/sessiond_client.test.js)"],
        data = modules + [
            "package-lock.json",
            "//client:node_client",
            "//protos:session/v1/session.proto",
            "//service:sessiond",
            "//tests/client:node/sessiond_client.test.js",
        ],
        env = {"SESSIOND_BINARY": "$(rootpath //service:sessiond)"},
    )
