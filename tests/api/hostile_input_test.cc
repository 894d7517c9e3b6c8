// Hostile input, end to end: a table of broken, oversized and malicious
// requests, each with the exact answer it must get, and a server that is
// still healthy and correct after all of them.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/server/library_logs.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/loopback_fixture.h"
#include "tests/testing/raw_unary_call.h"

namespace sessiond {
namespace {

using session::v1::InvalidReason;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// The expected answer: an RPC status code, plus for ValidateSession the
// verdict's reason.
struct Expect {
  grpc::StatusCode code = grpc::StatusCode::OK;
  InvalidReason reason = session::v1::INVALID_REASON_UNSPECIFIED;
};

class HostileInputTest : public LoopbackTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.max_receive_message_bytes = 64 * 1024;
    Start(std::make_unique<MemorySessionStore>(), options);
    good_ = CreateFullToken();
  }

  std::string CreateFullToken() {
    CreateSessionRequest request;
    request.set_subject("victim");
    CreateSessionResponse response;
    EXPECT_TRUE(Create(request, &response).ok());
    good_id_ = response.session().id();
    return response.token();
  }

  Expect CreateAnswer(const CreateSessionRequest& request) {
    CreateSessionResponse response;
    return {Create(request, &response).error_code()};
  }

  Expect ValidateAnswer(const std::string& token) {
    ValidateSessionRequest request;
    request.set_token(token);
    ValidateSessionResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->ValidateSession(&context, request, &response);
    return {status.error_code(), response.reason()};
  }

  // A request whose field 1 (CreateSession's `subject`, the `token` of
  // ValidateSession, RevokeSession and RotateSession) is `bytes`, under 128.
  static std::string Field1(const std::string& bytes) {
    std::string wire;
    wire.push_back(0x0a);  // field 1, length-delimited
    wire.push_back(static_cast<char>(bytes.size()));
    return wire + bytes;
  }

  // Calls SessionService's `method` with `wire` as the encoded request,
  // bypassing the client library's own UTF-8 handling, so the server meets
  // exactly these bytes. For ValidateSession, the verdict's reason too.
  Expect RawAnswer(const std::string& method, const std::string& wire) {
    auto [result, response] =
        RawUnaryCall(channel_, "/session.v1.SessionService/" + method, wire);
    Expect answer{result.error_code()};
    ValidateSessionResponse verdict;
    if (result.ok() && method == "ValidateSession" &&
        grpc::SerializationTraits<ValidateSessionResponse>::Deserialize(
            &response, &verdict)
            .ok()) {
      answer.reason = verdict.reason();
    }
    return answer;
  }

  // A request whose `subject` is raw bytes.
  Expect RawCreateAnswer(const std::string& subject_bytes) {
    return RawAnswer("CreateSession", Field1(subject_bytes));
  }

  std::string good_;
  std::string good_id_;
};

CreateSessionRequest Subject(const std::string& subject) {
  CreateSessionRequest request;
  request.set_subject(subject);
  return request;
}

TEST_F(HostileInputTest, EveryBadRequestGetsItsExactAnswer) {
  TokenCodec codec("sess_");
  Token parsed = *codec.Parse(good_);
  Token wrong_secret = parsed;
  wrong_secret.verifier[31] ^= 0x01;
  std::string bad_checksum = good_;
  bad_checksum[12] = bad_checksum[12] == 'a' ? 'b' : 'a';
  const std::string sql = "'; DROP TABLE sessions; --";

  const Expect kInvalid{grpc::StatusCode::INVALID_ARGUMENT};
  const Expect kOk{grpc::StatusCode::OK};
  const Expect kTooBig{grpc::StatusCode::RESOURCE_EXHAUSTED};
  const Expect kMalformed{grpc::StatusCode::OK,
                          session::v1::INVALID_REASON_MALFORMED};
  const Expect kUnknown{grpc::StatusCode::OK,
                        session::v1::INVALID_REASON_UNKNOWN};

  std::vector<std::tuple<std::string, std::function<Expect()>, Expect>> cases =
      {
          {"create: empty request", [&] { return CreateAnswer({}); }, kInvalid},
          {"create: subject at limit",
           [&] { return CreateAnswer(Subject(std::string(256, 's'))); }, kOk},
          {"create: subject over limit",
           [&] { return CreateAnswer(Subject(std::string(257, 's'))); },
           kInvalid},
          {"create: embedded NUL",
           [&] { return CreateAnswer(Subject(std::string("a\0b", 3))); },
           kInvalid},
          {"create: newline (log injection)",
           [&] { return CreateAnswer(Subject("alice\nINFO forged")); },
           kInvalid},
          {"create: raw bytes, valid", [&] { return RawCreateAnswer("alice"); },
           kOk},
          // Not valid protobuf (proto3 strings are UTF-8): gRPC 1.51's callback
          // API refuses it before sessiond sees it, with this code.
          {"create: invalid UTF-8",
           [&] { return RawCreateAnswer("\xff\xfe"); },
           {grpc::StatusCode::UNIMPLEMENTED}},
          {"create: SQL-looking subject",
           [&] { return CreateAnswer(Subject(sql)); }, kOk},
          {"create: 33 attributes",
           [&] {
             CreateSessionRequest r = Subject("a");
             for (int i = 0; i < 33; ++i)
               (*r.mutable_attributes())["k" + std::to_string(i)] = "v";
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: huge attribute map",
           [&] {
             CreateSessionRequest r = Subject("a");
             for (int i = 0; i < 10'000; ++i)
               (*r.mutable_attributes())["k" + std::to_string(i)] = "v";
             return CreateAnswer(r);
           },
           kTooBig},
          {"create: empty attribute key",
           [&] {
             CreateSessionRequest r = Subject("a");
             (*r.mutable_attributes())[""] = "v";
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: attribute value over limit",
           [&] {
             CreateSessionRequest r = Subject("a");
             (*r.mutable_attributes())["k"] = std::string(1025, 'v');
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: negative ttl",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_ttl()->set_seconds(-1);
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: largest valid ttl (clamped)",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_ttl()->set_seconds(315'576'000'000);
             return CreateAnswer(r);
           },
           kOk},
          {"create: ttl beyond Duration range",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_ttl()->set_seconds(315'576'000'001);
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: ttl with mixed signs",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_ttl()->set_seconds(10);
             r.mutable_ttl()->set_nanos(-1);
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: ttl nanos out of range",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_ttl()->set_nanos(1'000'000'000);
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: sub-second ttl",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_ttl()->set_nanos(500'000'000);
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: negative idle timeout",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_idle_timeout()->set_seconds(-60);
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: oversized user agent",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.mutable_client()->set_user_agent(std::string(513, 'u'));
             return CreateAnswer(r);
           },
           kInvalid},
          {"create: oversized request id",
           [&] {
             CreateSessionRequest r = Subject("a");
             r.set_request_id(std::string(129, 'r'));
             return CreateAnswer(r);
           },
           kInvalid},
          {"validate: empty token", [&] { return ValidateAnswer(""); },
           kMalformed},
          {"validate: garbage", [&] { return ValidateAnswer("hello world"); },
           kMalformed},
          {"validate: wrong checksum",
           [&] { return ValidateAnswer(bad_checksum); }, kMalformed},
          {"validate: right checksum, unknown id",
           [&] { return ValidateAnswer(codec.Encode(*GenerateToken())); },
           kUnknown},
          {"validate: right id, wrong verifier",
           [&] { return ValidateAnswer(codec.Encode(wrong_secret)); },
           kUnknown},
          {"validate: embedded NUL",
           [&] {
             return ValidateAnswer(good_.substr(0, 10) + std::string(1, '\0') +
                                   good_.substr(11));
           },
           kMalformed},
          {"validate: SQL-looking token", [&] { return ValidateAnswer(sql); },
           kMalformed},
          {"validate: prefix in another case",
           [&] { return ValidateAnswer("SESS_" + good_.substr(5)); },
           kMalformed},
          {"validate: 60 KB token",
           [&] { return ValidateAnswer(std::string(60'000, 'A')); },
           kMalformed},
          {"validate: 70 KB token",
           [&] { return ValidateAnswer(std::string(70'000, 'A')); }, kTooBig},
          {"validate: raw bytes, live token",
           [&] { return RawAnswer("ValidateSession", Field1(good_)); }, kOk},
          // Not UTF-8, so not valid protobuf for a `string` field: sessiond
          // reads the token as bytes and answers it as junk.
          {"validate: invalid UTF-8",
           [&] { return RawAnswer("ValidateSession", Field1("\xff\xfe")); },
           kMalformed},
          {"validate: live token with one byte not UTF-8",
           [&] {
             std::string token = good_;
             token[10] = '\xc3';
             return RawAnswer("ValidateSession", Field1(token));
           },
           kMalformed},
          {"validate: not protobuf at all",
           [&] { return RawAnswer("ValidateSession", "\xff\xff\xff"); },
           kInvalid},
          {"revoke: no target",
           [&] { return Expect{RevokeCode(RevokeSessionRequest())}; },
           kInvalid},
          {"revoke: malformed session id",
           [&] {
             RevokeSessionRequest r;
             r.set_session_id("../../etc/passwd");
             return Expect{RevokeCode(r)};
           },
           kInvalid},
          {"revoke: unknown session id",
           [&] {
             RevokeSessionRequest r;
             r.set_session_id(EncodeSessionId(GenerateToken()->selector));
             return Expect{RevokeCode(r)};
           },
           kOk},
          {"rotate: unknown token",
           [&] {
             session::v1::RotateSessionRequest r;
             r.set_token(codec.Encode(*GenerateToken()));
             return Expect{RotateCode(r)};
           },
           {grpc::StatusCode::NOT_FOUND}},
          // gRPC 1.51 refuses these before sessiond sees them, as for Create.
          {"rotate: invalid UTF-8 token",
           [&] { return RawAnswer("RotateSession", Field1("\xff\xfe")); },
           {grpc::StatusCode::UNIMPLEMENTED}},
          {"revoke: invalid UTF-8 token",
           [&] { return RawAnswer("RevokeSession", Field1("\xff\xfe")); },
           {grpc::StatusCode::UNIMPLEMENTED}},
          {"rotate: attributes without replace",
           [&] {
             session::v1::RotateSessionRequest r;
             r.set_token(good_);
             (*r.mutable_attributes())["role"] = "admin";
             return Expect{RotateCode(r)};
           },
           kInvalid},
          {"list: negative page size",
           [&] {
             session::v1::ListSessionsRequest r;
             r.set_subject("victim");
             r.set_page_size(-1);
             return Expect{List(r).first.error_code()};
           },
           kInvalid},
          {"list: forged page token",
           [&] {
             session::v1::ListSessionsRequest r;
             r.set_subject("victim");
             r.set_page_token(sql);
             return Expect{List(r).first.error_code()};
           },
           kInvalid},
          {"list: enormous page size (clamped)",
           [&] {
             session::v1::ListSessionsRequest r;
             r.set_subject("victim");
             r.set_page_size(2'000'000'000);
             return Expect{List(r).first.error_code()};
           },
           kOk},
          {"revoke-all: empty subject",
           [&] {
             return Expect{
                 RevokeSubject(session::v1::RevokeSubjectSessionsRequest())
                     .first.error_code()};
           },
           kInvalid},
          {"revoke-all: malformed except id",
           [&] {
             session::v1::RevokeSubjectSessionsRequest r;
             r.set_subject("nobody");
             r.set_except_session_id(sql);
             return Expect{RevokeSubject(r).first.error_code()};
           },
           kInvalid},
      };
  ASSERT_GE(cases.size(), 25u);
  for (const auto& [name, call, expected] : cases) {
    Expect got = call();
    EXPECT_EQ(got.code, expected.code) << name;
    EXPECT_EQ(got.reason, expected.reason) << name;
  }

  // The server is healthy, and the victim's session untouched.
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(Validate(good_).valid());
  ValidateSessionResponse sql_session = Validate(CreateToken(sql));
  EXPECT_EQ(sql_session.session().subject(), sql);
}

// A token that is not UTF-8 is junk like any other: answered MALFORMED,
// counted by the guessing detector, and no log line of its own. Where gRPC
// refuses such a request (Rotate, Revoke), libprotobuf's complaint about it
// is one of a few lines a minute, not one per request.
TEST_F(HostileInputTest, TokensThatAreNotUtf8AreJunkAndFloodNoLog) {
  Stop();
  ServerOptions options;
  options.guesses.threshold = 5;
  Start(std::make_unique<MemorySessionStore>(), options);
  const Expect kMalformed{grpc::StatusCode::OK,
                          session::v1::INVALID_REASON_MALFORMED};
  LogCapture log;
  for (int i = 0; i < 5; ++i) {
    Expect got = RawAnswer("ValidateSession", Field1("\xff\xfe"));
    EXPECT_EQ(got.code, kMalformed.code);
    EXPECT_EQ(got.reason, kMalformed.reason);
  }
  // The fifth failure crossed the threshold.
  EXPECT_THAT(log.LinesWith("suspected token guessing"),
              ElementsAre(HasSubstr("caller \"ipv4:127.0.0.1\" failed 5")));
  EXPECT_THAT(log.LinesWith("libprotobuf"), IsEmpty());

  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(RawAnswer("RotateSession", Field1("\xff\xfe")).code,
              grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_EQ(RawAnswer("RevokeSession", Field1("\xff\xfe")).code,
              grpc::StatusCode::UNIMPLEMENTED);
  }
  // One place in libprotobuf complains about both.
  EXPECT_THAT(log.LinesWith("libprotobuf"), SizeIs(LibraryLogs::kLinesPerSite));
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(RawAnswer("RotateSession", Field1("\xff\xfe")).code,
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(log.LinesWith("suppressed"),
              ElementsAre(HasSubstr("suppressed 195 library log lines")));
  for (const std::string& line : log.Lines()) {
    EXPECT_TRUE(IsLogLine(line)) << line;
  }
}

}  // namespace
}  // namespace sessiond
