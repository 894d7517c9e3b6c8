#include "service/api/access_policy.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "session/v1/session.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/log_capture.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kCreate[] = "/session.v1.SessionService/CreateSession";
constexpr char kValidate[] = "/session.v1.SessionService/ValidateSession";
constexpr char kHealth[] = "/grpc.health.v1.Health/Check";
constexpr char kReflection[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

TEST(AccessPolicyTest, AllowsListedCallsOnly) {
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(
      "# comment\n"
      "login.internal: CreateSession   RotateSession\t# trailing comment\n"
      "\n"
      "admin.internal: *\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_TRUE(policy->Allows({"login.internal"}, kCreate));
  EXPECT_FALSE(policy->Allows({"login.internal"}, kValidate));
  EXPECT_FALSE(policy->Allows({"login.internal"}, kHealth));
  EXPECT_TRUE(policy->Allows({"admin.internal"}, kReflection));
  EXPECT_FALSE(policy->Allows({"stranger"}, kCreate));
  EXPECT_FALSE(policy->Allows({}, kCreate));
  // Any of a caller's identities (several SANs) may grant the call.
  EXPECT_TRUE(policy->Allows({"other.name", "login.internal"}, kCreate));
}

TEST(AccessPolicyTest, StarIdentityCoversEveryAuthenticatedCaller) {
  absl::StatusOr<AccessPolicy> policy =
      AccessPolicy::Parse("*: Health\nsidecar: ValidateSession\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_TRUE(policy->Allows({"anyone"}, kHealth));
  EXPECT_FALSE(policy->Allows({"anyone"}, kValidate));
  EXPECT_TRUE(policy->Allows({"sidecar"}, kValidate));
  EXPECT_FALSE(policy->Allows({}, kHealth));  // unauthenticated
}

// Identities with colons of their own: a SPIFFE ID (Istio's workload
// identity, a URI SAN) and an IPv6 address SAN. Before, the line was split at
// the first colon, so neither could be named.
TEST(AccessPolicyTest, IdentitiesMayHoldColons) {
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(
      "spiffe://cluster.local/ns/web/sa/envoy: Check\n"
      "fd00::1: ValidateSession\n"
      "2001:db8::: Health\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_TRUE(
      policy->AllowsCall({"spiffe://cluster.local/ns/web/sa/envoy"}, "Check"));
  EXPECT_FALSE(policy->AllowsCall({"spiffe"}, "Check"));
  EXPECT_TRUE(policy->Allows({"fd00::1"}, kValidate));
  EXPECT_FALSE(policy->Allows({"fd00::1"}, kCreate));
  EXPECT_TRUE(policy->Allows({"2001:db8::"}, kHealth));
  // Without the separating colon, a URI's own colon does not pass for it.
  EXPECT_THAT(
      AccessPolicy::Parse("spiffe://cluster.local/ns/web/sa/envoy Check\n"),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AccessPolicyTest, UnknownMethodsAreNeverAllowed) {
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse("admin: *\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_FALSE(policy->Allows({"admin"}, "/session.v1.SessionService/DropAll"));
  EXPECT_FALSE(policy->Allows({"admin"}, "/other.Service/CreateSession"));
  EXPECT_FALSE(policy->Allows({"admin"}, ""));
}

TEST(AccessPolicyTest, CallNames) {
  EXPECT_EQ(AccessPolicy::CallName(kCreate), "CreateSession");
  EXPECT_EQ(AccessPolicy::CallName("/grpc.health.v1.Health/Watch"), "Health");
  EXPECT_EQ(AccessPolicy::CallName(kReflection), "Reflection");
  EXPECT_EQ(AccessPolicy::CallName(
                "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            "Reflection");
  EXPECT_EQ(AccessPolicy::CallName("/session.v1.SessionService/Health"), "");
}

// Names come from the API's descriptors: every RPC of SessionService can be
// named in a policy, with no list to keep in step by hand.
TEST(AccessPolicyTest, EveryServiceMethodCanBeNamed) {
  const google::protobuf::ServiceDescriptor* service =
      session::v1::Session::descriptor()->file()->FindServiceByName(
          "SessionService");
  ASSERT_NE(service, nullptr);
  ASSERT_GE(service->method_count(), 6);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string name = service->method(i)->name();
    absl::StatusOr<AccessPolicy> policy =
        AccessPolicy::Parse(absl::StrCat("caller: ", name, "\n"));
    ASSERT_THAT(policy, IsOk()) << name;
    const std::string path = absl::StrCat("/session.v1.SessionService/", name);
    EXPECT_EQ(AccessPolicy::CallName(path), name);
    EXPECT_TRUE(policy->Allows({"caller"}, path)) << name;
  }
}

TEST(AccessPolicyTest, MistakesAreErrorsWithLineNumbers) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"login CreateSession\n", "line 1"},
      {"\nlogin: CreateSesion\n", "line 2"},
      {"login:\n", "no calls"},
      {": CreateSession\n", "empty identity"},
      {"login: CreateSession: RotateSession\n", "holds a space"},
      {"admin:: *\n", "ends in a colon"},
      {"a: CreateSession\na: ListSessions\n", "twice"},
      {"# nothing\n", "nobody"},
      {"", "nobody"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(c.text);
    EXPECT_THAT(policy, StatusIs(absl::StatusCode::kInvalidArgument)) << c.text;
    EXPECT_NE(policy.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << policy.status();
  }
}

TEST(PolicyProcessorTest, DenialsAreQuotedAndLimitedPerCaller) {
  absl::StatusOr<AccessPolicy> policy =
      AccessPolicy::Parse("sidecar: ValidateSession\n");
  ASSERT_THAT(policy, IsOk());
  FakeClock clock;
  PolicyProcessor processor(*std::move(policy), clock);
  LogCapture log;
  EXPECT_TRUE(processor.Check({"sidecar"}, kValidate).ok());
  EXPECT_EQ(processor.Check({}, kValidate).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(log.Lines(), IsEmpty());  // only denials are logged
  const std::string forging =
      "/a\n2026-11-30T08:00:00.000Z INFO session A revoked";
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(processor.Check({"sidecar", "x\"y"}, forging).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(processor.Check({"other"}, kCreate).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  std::vector<std::string> lines = log.Lines();
  ASSERT_THAT(lines, SizeIs(PolicyProcessor::kDenialLinesPerCaller + 1));
  EXPECT_THAT(lines[0],
              EndsWith(" WARNING call.denied caller=\"sidecar,x\\\"y\" "
                       "method=\"/a\\n2026-11-30T08:00:00.000Z INFO session A "
                       "revoked\""));
  EXPECT_THAT(lines.back(), HasSubstr("call.denied caller=\"other\" method="));
  clock.Advance(absl::Minutes(1));
  processor.Check({"sidecar", "x\"y"}, kCreate);
  EXPECT_THAT(log.LinesWith("suppressed"),
              ElementsAre(EndsWith("suppressed 95 permission-denied lines in "
                                   "the 1m from 2026-09-21T14:13:20Z: caller "
                                   "\"sidecar\",\"x\\\"y\" (95)")));
  for (const std::string& line : log.Lines()) {
    EXPECT_TRUE(IsLogLine(line)) << line;
  }
}

// RevokeSession is let in with either revoke permission; which target a
// call may name is checked per call (CheckCall), by the handler.
TEST(AccessPolicyTest, RevokeByTokenAndByIdAreSeparatePermissions) {
  constexpr char kRevoke[] = "/session.v1.SessionService/RevokeSession";
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(
      "login: RevokeSession\nadmin: RevokeSessionById\n"
      "root: *\nsidecar: ValidateSession\n");
  ASSERT_THAT(policy, IsOk());
  EXPECT_TRUE(policy->Allows({"login"}, kRevoke));
  EXPECT_TRUE(policy->Allows({"admin"}, kRevoke));
  EXPECT_FALSE(policy->Allows({"sidecar"}, kRevoke));
  EXPECT_TRUE(policy->AllowsCall({"login"}, "RevokeSession"));
  EXPECT_FALSE(policy->AllowsCall({"login"}, kRevokeByIdCall));
  EXPECT_FALSE(policy->AllowsCall({"admin"}, "RevokeSession"));
  EXPECT_TRUE(policy->AllowsCall({"admin"}, kRevokeByIdCall));
  EXPECT_TRUE(policy->AllowsCall({"root"}, kRevokeByIdCall));
  EXPECT_FALSE(policy->AllowsCall({}, kRevokeByIdCall));

  FakeClock clock;
  PolicyProcessor processor(*std::move(policy), clock);
  LogCapture log;
  EXPECT_TRUE(processor.CheckCall({"admin"}, kRevokeByIdCall, kRevoke).ok());
  grpc::Status denied =
      processor.CheckCall({"login"}, kRevokeByIdCall, kRevoke);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.error_message(),
            "caller login may not call RevokeSessionById "
            "(/session.v1.SessionService/RevokeSession)");
  EXPECT_THAT(
      log.LinesWith("call.denied"),
      ElementsAre(HasSubstr("caller=\"login\" method=\"RevokeSessionById "
                            "(/session.v1.SessionService/RevokeSession)\"")));
}

TEST(AccessPolicyTest, MissingFileIsAnError) {
  EXPECT_THAT(AccessPolicy::Load("/nonexistent/policy.txt"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace sessiond
