// RawUnaryCall: a unary call with request bytes chosen by the test.
//
// The generated stubs encode what they are given and refuse what protobuf
// would (a string that is not UTF-8); hostile-input tests need the server to
// meet exactly the bytes they wrote.

#ifndef SESSIOND_TESTS_TESTING_RAW_UNARY_CALL_H_
#define SESSIOND_TESTS_TESTING_RAW_UNARY_CALL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>

namespace sessiond {

// Calls the method at `path` ("/package.Service/Method") with `wire` as the
// encoded request; returns the status and the encoded response.
std::pair<grpc::Status, grpc::ByteBuffer> RawUnaryCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
    const std::string& wire);

}  // namespace sessiond

#endif  // SESSIOND_TESTS_TESTING_RAW_UNARY_CALL_H_
