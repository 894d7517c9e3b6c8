// CheckWireRequest (service/api/check_wire.proto) is how the server reads an
// envoy.service.auth.v3.CheckRequest: every field it reads must sit at the
// public subset's number, with bytes where the subset has string, and maps
// as their entry messages.

#include "envoy/service/auth/v3/external_auth.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "service/api/check_wire.pb.h"

namespace sessiond {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Checks `wire` against `api` field by field, then their message fields.
void ExpectSameWire(const Descriptor* api, const Descriptor* wire) {
  SCOPED_TRACE(api->full_name());
  for (int i = 0; i < wire->field_count(); ++i) {
    const FieldDescriptor* field = wire->field(i);
    const FieldDescriptor* expected = api->FindFieldByNumber(field->number());
    ASSERT_NE(expected, nullptr) << field->name();
    EXPECT_EQ(field->name(), expected->name());
    EXPECT_EQ(field->is_repeated(), expected->is_repeated()) << field->name();
    if (expected->type() == FieldDescriptor::TYPE_STRING) {
      EXPECT_EQ(field->type(), FieldDescriptor::TYPE_BYTES) << field->name();
    } else {
      ASSERT_EQ(field->type(), expected->type()) << field->name();
    }
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      ExpectSameWire(expected->message_type(), field->message_type());
    }
  }
}

TEST(CheckWireTest, MatchesThePublicSubset) {
  ExpectSameWire(envoy::service::auth::v3::CheckRequest::descriptor(),
                 api::CheckWireRequest::descriptor());
}

TEST(CheckWireTest, ReadsWhatAnEnvoyClientEncodes) {
  envoy::service::auth::v3::CheckRequest request;
  auto* attributes = request.mutable_attributes();
  (*attributes->mutable_context_extensions())["mode"] = "optional";
  auto* http = attributes->mutable_request()->mutable_http();
  (*http->mutable_headers())["cookie"] = "a=b";
  http->mutable_header_map()->add_headers()->set_raw_value("\xff");
  http->set_path("/p");
  api::CheckWireRequest wire;
  ASSERT_TRUE(wire.ParseFromString(request.SerializeAsString()));
  EXPECT_EQ(wire.attributes().context_extensions(0).value(), "optional");
  EXPECT_EQ(wire.attributes().request().http().headers(0).key(), "cookie");
  EXPECT_EQ(
      wire.attributes().request().http().header_map().headers(0).raw_value(),
      "\xff");
  EXPECT_EQ(wire.attributes().request().http().path(), "/p");
}

}  // namespace
}  // namespace sessiond
