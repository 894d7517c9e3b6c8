"""Code generated from a .proto with the system protoc and its gRPC plugins.

Bazel's own `proto_library`/`cc_proto_library` want protobuf built from source
(@com_google_protobuf), which this offline build does not have; generated code
must also match the system libprotobuf (and Debian's python3-protobuf) it runs
against. So a genrule runs the system protoc, exactly as CMake does.

Example:

    sessiond_cc_proto_library(
        name = "session_cc_proto",
        src = "session/v1/session.proto",
        strip_import_prefix = "/protos",
        grpc_name = "session_cc_grpc",
    )

defines `:session_cc_proto` (messages; include "session/v1/session.pb.h")
and `:session_cc_grpc` (stubs; include "session/v1/session.grpc.pb.h").
`sessiond_py_proto_library` makes `session/v1/session_pb2{,_grpc}.py` the same
way.
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

_PROTOC = "@system_protobuf//:protoc"
_GRPC_PLUGIN = "@system_grpc//:grpc_cpp_plugin"
_GRPC_PYTHON_PLUGIN = "@system_grpc//:grpc_python_plugin"

def _join(*parts):
    return "/".join([part for part in parts if part])

def _paths(src, strip_import_prefix):
    """Returns (import root, its execution path, src's import path, output dir)."""
    package = native.package_name()
    if strip_import_prefix.startswith("/"):
        import_root = strip_import_prefix[1:]
    else:
        import_root = _join(package, strip_import_prefix)
    path = _join(package, src)
    if import_root and not path.startswith(import_root + "/"):
        fail("%s is not under strip_import_prefix %s" % (path, import_root))
    import_path = path[len(import_root) + 1:] if import_root else path

    # Sources of an external repository (a workspace depending on sessiond)
    # sit under external/<name> in the execution root.
    repository = native.repository_name().lstrip("@")
    root = _join("external/" + repository if repository else "", import_root)
    return import_root, root, import_path, _join("$(BINDIR)", root)

def sessiond_cc_proto_library(
        name,
        src,
        strip_import_prefix = "",
        grpc_name = None,
        imports = [],
        deps = [],
        visibility = None):
    """Generates C++ message and, optionally, gRPC stub libraries.

    Args:
      name: the message library (`.pb.h`, `.pb.cc`).
      src: the .proto file, relative to this package.
      strip_import_prefix: directory that imports are relative to: "/dir"
        from the repository root, "dir" from this package; empty means the
        repository root. It is also the include root of the generated headers.
      grpc_name: if set, also a library of gRPC stubs (`.grpc.pb.*`) by this
        name, depending on `name`.
      imports: other .proto files `src` imports from this repository (the
        well-known types come from /usr/include).
      deps: libraries generated from `imports`.
      visibility: of the generated libraries.
    """
    import_root, root, import_path, out_dir = _paths(src, strip_import_prefix)
    path = _join(native.package_name(), src)

    # Generated files keep the import path, so the outputs are named relative
    # to this package the way `src` is.
    stem = src[:-len(".proto")]
    messages = [stem + ".pb.h", stem + ".pb.cc"]
    stubs = [stem + ".grpc.pb.h", stem + ".grpc.pb.cc"] if grpc_name else []
    command = [
        "$(execpath %s)" % _PROTOC,
        "--proto_path=%s" % (root or "."),
        "--cpp_out=%s" % out_dir,
    ]
    tools = [_PROTOC]
    if grpc_name:
        command += [
            "--plugin=protoc-gen-grpc=$(execpath %s)" % _GRPC_PLUGIN,
            "--grpc_out=%s" % out_dir,
        ]
        tools.append(_GRPC_PLUGIN)
    command.append(_join(root, import_path))

    native.genrule(
        name = name + "_gen",
        srcs = [src] + imports,
        outs = messages + stubs,
        cmd = " ".join(command),
        tools = tools,
        message = "Generating C++ from " + path,
        visibility = ["//visibility:private"],
    )

    # Headers are included by import path ("session/v1/session.pb.h"): strip
    # the import root when it is not the repository root, whose generated
    # files are reachable that way already.
    include_prefix = {"strip_include_prefix": "/" + import_root} if import_root else {}
    cc_library(
        name = name,
        srcs = [stem + ".pb.cc"],
        hdrs = [stem + ".pb.h"],
        deps = deps + ["@system_protobuf//:protobuf"],
        visibility = visibility,
        **include_prefix
    )
    if grpc_name:
        cc_library(
            name = grpc_name,
            srcs = [stem + ".grpc.pb.cc"],
            hdrs = [stem + ".grpc.pb.h"],
            deps = [
                ":" + name,
                "@system_grpc//:grpc++",
            ],
            visibility = visibility,
            **include_prefix
        )

def sessiond_py_proto_library(
        name,
        src,
        strip_import_prefix = "",
        visibility = None):
    """Generates Python messages and gRPC stubs, as a filegroup.

    Args:
      name: the filegroup of `<stem>_pb2.py` and `<stem>_pb2_grpc.py`.
      src: the .proto file, relative to this package.
      strip_import_prefix: as for sessiond_cc_proto_library; the modules are
        imported by the path below it ("session.v1.session_pb2"), so that
        directory goes on PYTHONPATH.
      visibility: of the filegroup.
    """
    _, root, import_path, out_dir = _paths(src, strip_import_prefix)
    stem = src[:-len(".proto")]
    native.genrule(
        name = name,
        srcs = [src],
        outs = [stem + "_pb2.py", stem + "_pb2_grpc.py"],
        cmd = " ".join([
            "$(execpath %s)" % _PROTOC,
            "--proto_path=%s" % (root or "."),
            "--python_out=%s" % out_dir,
            "--plugin=protoc-gen-grpc_python=$(execpath %s)" % _GRPC_PYTHON_PLUGIN,
            "--grpc_python_out=%s" % out_dir,
            _join(root, import_path),
        ]),
        tools = [
            _GRPC_PYTHON_PLUGIN,
            _PROTOC,
        ],
        message = "Generating Python from " + _join(native.package_name(), src),
        visibility = visibility,
    )
