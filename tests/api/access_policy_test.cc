#include "service/api/access_policy.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "session/v1/session.pb.h"
#include "tests/testing/test_util.h"

namespace sessiond {
namespace {

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

TEST(AccessPolicyTest, MissingFileIsAnError) {
  EXPECT_THAT(AccessPolicy::Load("/nonexistent/policy.txt"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace sessiond
