"""The part of rules_cc that Bazel 4.2.3 itself loads, forwarded to the native rules.

Bazel's own tools load `@rules_cc//cc:defs.bzl`, and its default WORKSPACE would
download rules_cc for that. Debian's bazel-rules-cc (0.0.4) is too new for Bazel
4.2.3 (it needs `use_cpp_toolchain`), and in 4.2.3 these rules are native
anyway, so this file is all the rules_cc the offline build needs.
sessiond's BUILD files load the C++ rules from here too, as they would from
the real rules_cc, so moving to a newer Bazel leaves them unchanged.
"""

cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
