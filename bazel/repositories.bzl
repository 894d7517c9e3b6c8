"""Every external repository sessiond's Bazel build uses, all from this machine.

Call `sessiond_repositories()` from a WORKSPACE (sessiond's own, or one that
depends on sessiond). It needs Debian 12's Bazel (`bazel-bootstrap`, 4.2.3,
with `bazel-rules-java`) and the -dev packages scripts/install-deps installs,
and it downloads nothing. Every repository is declared with `maybe`, so a
workspace that already has one of these names keeps its own.
"""

load("@bazel_tools//tools/build_defs/repo:utils.bzl", "maybe")
load(":system_library.bzl", "system_library_repository")

# Abseil components sessiond uses (and their close neighbours), as
# target name -> pkg-config module. Header-only ones carry no library, but
# naming them keeps each target's deps honest.
_ABSL_LIBRARIES = {
    "algorithm": "absl_algorithm",
    "any_invocable": "absl_any_invocable",
    "base": "absl_base",
    "btree": "absl_btree",
    "cleanup": "absl_cleanup",
    "core_headers": "absl_core_headers",
    "fixed_array": "absl_fixed_array",
    "flags": "absl_flags",
    "flags_commandlineflag": "absl_flags_commandlineflag",
    "flags_config": "absl_flags_config",
    "flags_parse": "absl_flags_parse",
    "flags_reflection": "absl_flags_reflection",
    "flags_usage": "absl_flags_usage",
    "flat_hash_map": "absl_flat_hash_map",
    "flat_hash_set": "absl_flat_hash_set",
    "function_ref": "absl_function_ref",
    "hash": "absl_hash",
    "inlined_vector": "absl_inlined_vector",
    "memory": "absl_memory",
    "node_hash_map": "absl_node_hash_map",
    "node_hash_set": "absl_node_hash_set",
    "optional": "absl_optional",
    "random": "absl_random_random",
    "span": "absl_span",
    "status": "absl_status",
    "statusor": "absl_statusor",
    "str_format": "absl_str_format",
    "strings": "absl_strings",
    "synchronization": "absl_synchronization",
    "time": "absl_time",
    "variant": "absl_variant",
}

def _rules_cc_shim_impl(rctx):
    rctx.file("WORKSPACE", 'workspace(name = "rules_cc")\n')
    rctx.file("BUILD.bazel", "")
    rctx.symlink(rctx.attr._defs, "cc/defs.bzl")
    rctx.symlink(rctx.attr._build, "cc/BUILD.bazel")

# A repository rule rather than a local_repository so that the shim's path is
# found from this file's label, wherever sessiond sits in a depending
# workspace.
_rules_cc_shim = repository_rule(
    implementation = _rules_cc_shim_impl,
    attrs = {
        "_build": attr.label(default = Label("//bazel:rules_cc/cc.BUILD")),
        "_defs": attr.label(default = Label("//bazel:rules_cc/defs.bzl")),
    },
)

def sessiond_repositories():
    """Declares the rule shims and the system libraries and tools."""

    # Bazel 4.2.3 loads rules_cc and rules_java during every build and would
    # download them; the shim and Debian's bazel-rules-java stand in.
    # (@platforms needs nothing: Bazel's install base brings it.)
    maybe(_rules_cc_shim, name = "rules_cc")
    maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )

    maybe(
        system_library_repository,
        name = "system_absl",
        libraries = {name: [module] for name, module in _ABSL_LIBRARIES.items()},
        debian_packages = ["libabsl-dev", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_protobuf",
        libraries = {"protobuf": ["protobuf"]},
        tools = {"protoc": "protoc"},
        debian_packages = ["libprotobuf-dev", "protobuf-compiler", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_grpc",
        libraries = {
            "grpc++": ["grpc++"],
            "grpc++_reflection": [],
        },
        # Debian ships no .pc file for the reflection library.
        linkopts = {"grpc++_reflection": ["-lgrpc++_reflection"]},
        deps = {"grpc++_reflection": [":grpc++"]},
        tools = {
            "grpc_cpp_plugin": "grpc_cpp_plugin",
            "grpc_python_plugin": "grpc_python_plugin",
        },
        debian_packages = ["libgrpc++-dev", "protobuf-compiler-grpc", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_openssl",
        libraries = {
            "crypto": ["libcrypto"],
            "ssl": ["libssl"],
        },
        debian_packages = ["libssl-dev", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_sqlite3",
        libraries = {"sqlite3": ["sqlite3"]},
        debian_packages = ["libsqlite3-dev", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_libpq",
        libraries = {"libpq": ["libpq"]},
        debian_packages = ["libpq-dev", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_prometheus_cpp",
        libraries = {"core": ["prometheus-cpp-core"]},
        debian_packages = ["prometheus-cpp-dev", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_microhttpd",
        libraries = {
            "gnutls": [],
            "microhttpd": [],
        },
        # gnutls.pc (which libmicrohttpd.pc requires) adds
        # -I/usr/include/p11-kit-1, which only gnutls/pkcs11.h needs: both are
        # linked by name instead, so p11-kit's headers stay out of the build.
        linkopts = {
            "gnutls": ["-lgnutls"],
            "microhttpd": ["-lmicrohttpd"],
        },
        deps = {"microhttpd": [":gnutls"]},
        debian_packages = ["libmicrohttpd-dev", "libgnutls28-dev", "pkg-config"],
    )
    # gperftools' tcmalloc, linked into the sessiond binary as its allocator
    # (CMake's SESSIOND_TCMALLOC).
    maybe(
        system_library_repository,
        name = "system_tcmalloc",
        libraries = {"tcmalloc_minimal": ["libtcmalloc_minimal"]},
        debian_packages = ["libgoogle-perftools-dev", "pkg-config"],
    )
    maybe(
        system_library_repository,
        name = "system_zlib",
        libraries = {"zlib": ["zlib"]},
        debian_packages = ["zlib1g-dev", "pkg-config"],
    )

    # Debian's libgtest-dev and libgmock-dev ship static libraries built from
    # /usr/src/googletest, with .pc files; linking those is all tests need.
    maybe(
        system_library_repository,
        name = "system_googletest",
        libraries = {
            "gmock": ["gmock"],
            "gmock_main": ["gmock_main"],
            "gtest": ["gtest"],
            "gtest_main": ["gtest_main"],
        },
        debian_packages = ["libgtest-dev", "libgmock-dev", "pkg-config"],
    )
