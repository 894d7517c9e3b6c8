// The version of sessiond, as sessiond_build_info{version} reports it. Kept
// equal to project(VERSION) in CMakeLists.txt (tests/metrics/
// server_metrics_test.cc checks).

#ifndef SESSIOND_SERVICE_COMMON_VERSION_H_
#define SESSIOND_SERVICE_COMMON_VERSION_H_

namespace sessiond {

inline constexpr char kSessiondVersion[] = "0.1.0";

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_COMMON_VERSION_H_
