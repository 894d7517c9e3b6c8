// sessionctl watch: WatchRevocations, one JSON line per message, for
// debugging a cache (`sessionctl watch | jq .`).

#include <memory>

#include "client/sessionctl_commands.h"
#include "google/protobuf/util/json_util.h"

namespace sessiond {

int RunWatch(const Client& client, const CommandInput& in, std::ostream& out,
             std::ostream& err) {
  std::unique_ptr<session::v1::SessionService::Stub> stub =
      session::v1::SessionService::NewStub(client.channel());
  // No deadline: a watch lasts until the server ends it or --count is hit.
  grpc::ClientContext context;
  session::v1::WatchRevocationsRequest request;
  request.set_cursor(in.cursor);
  std::unique_ptr<grpc::ClientReader<session::v1::WatchRevocationsResponse>>
      reader = stub->WatchRevocations(&context, request);
  google::protobuf::util::JsonPrintOptions options;  // one line each
  session::v1::WatchRevocationsResponse message;
  int64_t printed = 0;
  while (reader->Read(&message)) {
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(message, &json, options)
             .ok()) {
      err << "sessionctl: cannot print a message\n";
      context.TryCancel();
      break;
    }
    out << json << "\n" << std::flush;
    if (in.count > 0 && ++printed == in.count) {
      context.TryCancel();
      reader->Finish();
      return kExitOk;
    }
  }
  const grpc::Status status = reader->Finish();
  err << "sessionctl: "
      << absl::StatusCodeToString(
             static_cast<absl::StatusCode>(status.error_code()))
      << ": " << status.error_message() << "\n";
  return kExitRpcError;
}

}  // namespace sessiond
