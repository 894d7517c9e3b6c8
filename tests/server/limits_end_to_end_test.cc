// Connection-level bounds, each at its limit and one past it: request size,
// concurrent calls per connection, and keepalive ping abuse.

#include <grpcpp/grpcpp.h>

#include <thread>

#include "gtest/gtest.h"
#include "tests/testing/fake_session_store.h"
#include "tests/testing/loopback_fixture.h"

namespace sessiond {
namespace {

class LimitsTest : public LoopbackTest {};

// A ValidateSession request whose encoding is exactly `size` bytes.
ValidateSessionRequest RequestOfSize(size_t size) {
  ValidateSessionRequest request;
  // 1 tag byte + 2 length bytes (for 128..16383) + the token.
  request.set_token(std::string(size - 3, 'A'));
  EXPECT_EQ(request.ByteSizeLong(), size);
  return request;
}

TEST_F(LimitsTest, RequestSizeAtAndPastTheLimit) {
  ServerOptions options;
  options.max_receive_message_bytes = 1024;
  Start(std::make_unique<MemorySessionStore>(), options);
  for (size_t size : {size_t{1024}, size_t{1025}}) {
    ValidateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status =
        stub_->ValidateSession(&context, RequestOfSize(size), &response);
    if (size == 1024) {
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.reason(), session::v1::INVALID_REASON_MALFORMED);
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
  }
}

// With the store holding every write, each Create stays open: the server
// admits `limit` of them on one connection and no more.
void ExpectConcurrentCallsAdmitted(FakeSessionStore& store, size_t limit,
                                   std::shared_ptr<grpc::Channel> channel) {
  store.Hold();
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (size_t i = 0; i <= limit; ++i) {
    callers.emplace_back([&] {
      auto stub = SessionService::NewStub(channel);
      CreateSessionRequest request;
      request.set_subject("alice");
      CreateSessionResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
      if (stub->CreateSession(&context, request, &response).ok())
        ok.fetch_add(1);
    });
  }
  // Wait until `limit` calls reached the store; the one past the limit must
  // still be queued at the client then.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (store.held_count() < limit && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(store.held_count(), limit);
  absl::SleepFor(absl::Milliseconds(200));  // room for a wrongly admitted call
  EXPECT_EQ(store.held_count(), limit) << "a call past the limit was admitted";
  store.Release();  // the first calls finish, the queued one gets its turn
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ok.load(), static_cast<int>(limit + 1));
}

TEST_F(LimitsTest, ConcurrentCallsPerConnectionAtTheLimit) {
  for (int limit : {1, 2}) {
    auto store = std::make_unique<FakeSessionStore>();
    FakeSessionStore* fake = store.get();
    ServerOptions options;
    options.max_concurrent_streams = limit;
    Start(std::move(store), options);
    ExpectConcurrentCallsAdmitted(*fake, limit, channel_);
    Stop();
  }
}

TEST_F(LimitsTest, ChattyKeepalivePingsAreCutOff) {
  ServerOptions options;
  options.min_ping_interval = absl::Seconds(10);
  Start(std::make_unique<MemorySessionStore>(), options);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 100);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto chatty =
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                grpc::InsecureChannelCredentials(), args);
  ASSERT_TRUE(chatty->WaitForConnected(std::chrono::system_clock::now() +
                                       std::chrono::seconds(10)));
  // The server answers ping abuse with GOAWAY; the connection leaves READY.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (chatty->GetState(false) == GRPC_CHANNEL_READY &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_NE(chatty->GetState(false), GRPC_CHANNEL_READY);
  // A well-behaved client on its own connection is unaffected.
  EXPECT_TRUE(Validate(CreateToken("alice")).valid());
}

}  // namespace
}  // namespace sessiond
