// Conversion of absl::Status to grpc::Status at the RPC edge.
//
// The canonical codes are the same numbers in both libraries, so the code
// carries over unchanged with its message.

#ifndef SESSIOND_SERVICE_API_GRPC_STATUS_H_
#define SESSIOND_SERVICE_API_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace sessiond {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace sessiond

#endif  // SESSIOND_SERVICE_API_GRPC_STATUS_H_
