// ValidateSessionWireRequest (service/api/validate_wire.proto) is how the
// server reads a ValidateSessionRequest: it must have exactly the API's
// fields, the token as bytes instead of string.

#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "service/api/validate_wire.pb.h"
#include "session/v1/session.pb.h"

namespace sessiond {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

TEST(ValidateWireTest, HasTheApiFieldsWithTheTokenAsBytes) {
  const Descriptor* api = session::v1::ValidateSessionRequest::descriptor();
  const Descriptor* wire =
      sessiond::api::ValidateSessionWireRequest::descriptor();
  ASSERT_EQ(wire->field_count(), api->field_count());
  for (int i = 0; i < api->field_count(); ++i) {
    const FieldDescriptor* expected = api->field(i);
    const FieldDescriptor* field = wire->FindFieldByNumber(expected->number());
    ASSERT_NE(field, nullptr) << expected->name();
    EXPECT_EQ(field->name(), expected->name());
    EXPECT_EQ(field->label(), expected->label()) << expected->name();
    EXPECT_EQ(field->type(), expected->type() == FieldDescriptor::TYPE_STRING
                                 ? FieldDescriptor::TYPE_BYTES
                                 : expected->type())
        << expected->name();
  }
}

TEST(ValidateWireTest, ReadsAnyTokenTheApiEncodes) {
  session::v1::ValidateSessionRequest request;
  request.set_token("sess_abc");
  sessiond::api::ValidateSessionWireRequest wire;
  ASSERT_TRUE(wire.ParseFromString(request.SerializeAsString()));
  EXPECT_EQ(wire.token(), "sess_abc");
  // Bytes no `string` field may hold.
  ASSERT_TRUE(wire.ParseFromString(std::string("\x0a\x03\xff\x00\xfe", 5)));
  EXPECT_EQ(wire.token(), std::string("\xff\x00\xfe", 3));
}

}  // namespace
}  // namespace sessiond
