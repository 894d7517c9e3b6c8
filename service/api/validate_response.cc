#include "service/api/validate_response.h"

#include <grpc/slice.h>
#include <grpcpp/support/slice.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/io/coded_stream.h"
#include "service/api/session_proto.h"
#include "service/common/log.h"
#include "service/common/session_id.h"

namespace sessiond {
namespace {

using ::google::protobuf::io::CodedOutputStream;

// Field numbers below 16, so every tag is one byte.
enum WireType : uint8_t { kVarint = 0, kLengthDelimited = 2 };

constexpr uint8_t Tag(int field, WireType type) {
  return static_cast<uint8_t>((field << 3) | type);
}

// ValidateSessionResponse.
constexpr int kValidField = 1;
constexpr int kReasonField = 2;
constexpr int kSessionField = 3;
// Session; attributes (3) and client (8) come from the stored details.
constexpr int kIdField = 1;
constexpr int kSubjectField = 2;
constexpr int kCreateTimeField = 4;
constexpr int kExpireTimeField = 5;
constexpr int kIdleTimeoutField = 6;
constexpr int kLastActiveTimeField = 7;
// google.protobuf.Timestamp and Duration alike.
constexpr int kSecondsField = 1;
constexpr int kNanosField = 2;

size_t VarintFieldSize(uint64_t value) {
  return 1 + CodedOutputStream::VarintSize64(value);
}

size_t BytesFieldSize(size_t length) {
  return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(length)) +
         length;
}

uint8_t* WriteVarintField(int field, uint64_t value, uint8_t* out) {
  *out++ = Tag(field, kVarint);
  return CodedOutputStream::WriteVarint64ToArray(value, out);
}

// The tag and length of a length-delimited field; its bytes follow.
uint8_t* WriteLengthPrefix(int field, size_t length, uint8_t* out) {
  *out++ = Tag(field, kLengthDelimited);
  return CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(length),
                                                 out);
}

uint8_t* WriteBytesField(int field, absl::string_view bytes, uint8_t* out) {
  out = WriteLengthPrefix(field, bytes.size(), out);
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

// A google.protobuf.Timestamp or Duration: whole seconds and the nanoseconds
// beyond them, as protobuf's TimeUtil splits microseconds. Zero fields are
// left out, as proto3 does.
class SecondsAndNanos {
 public:
  // A Timestamp: nanos never negative, seconds rounded down.
  static SecondsAndNanos Timestamp(absl::Time time) {
    return FromMicros(absl::ToUnixMicros(time), /*floor=*/true);
  }
  // A Duration: seconds and nanos share the duration's sign.
  static SecondsAndNanos Duration(absl::Duration duration) {
    return FromMicros(absl::ToInt64Microseconds(duration), /*floor=*/false);
  }

  size_t size() const {
    return (seconds_ != 0 ? VarintFieldSize(Wire(seconds_)) : 0) +
           (nanos_ != 0 ? VarintFieldSize(Wire(nanos_)) : 0);
  }

  // The field `field` holding this message.
  uint8_t* WriteField(int field, uint8_t* out) const {
    out = WriteLengthPrefix(field, size(), out);
    if (seconds_ != 0)
      out = WriteVarintField(kSecondsField, Wire(seconds_), out);
    if (nanos_ != 0) out = WriteVarintField(kNanosField, Wire(nanos_), out);
    return out;
  }

 private:
  SecondsAndNanos(int64_t seconds, int64_t nanos)
      : seconds_(seconds), nanos_(nanos) {}

  static SecondsAndNanos FromMicros(int64_t micros, bool floor) {
    int64_t seconds = micros / 1'000'000;
    int64_t nanos = (micros % 1'000'000) * 1'000;
    if (floor && nanos < 0) {
      nanos += 1'000'000'000;
      --seconds;
    }
    return SecondsAndNanos(seconds, nanos);
  }

  // int64 and int32 fields alike go out as the 64-bit two's complement
  // (a negative int32 is sign-extended to ten bytes).
  static uint64_t Wire(int64_t value) { return static_cast<uint64_t>(value); }

  int64_t seconds_;
  int64_t nanos_;
};

// Everything a valid session's Session message holds, read once (the
// activity time may move meanwhile), so that size() and Write() agree.
class SessionFields {
 public:
  explicit SessionFields(const LiveSession& session)
      : record_(session.record()),
        id_(EncodeSessionId(record_.selector)),
        create_time_(SecondsAndNanos::Timestamp(record_.create_time)),
        expire_time_(SecondsAndNanos::Timestamp(record_.expire_time)),
        idle_timeout_(SecondsAndNanos::Duration(record_.idle_timeout)),
        last_active_(SecondsAndNanos::Timestamp(session.last_active())) {}

  size_t size() const {
    return BytesFieldSize(id_.size()) +
           (record_.subject.empty() ? 0
                                    : BytesFieldSize(record_.subject.size())) +
           record_.details.encoded().size() +
           BytesFieldSize(create_time_.size()) +
           BytesFieldSize(expire_time_.size()) +
           (has_idle_timeout() ? BytesFieldSize(idle_timeout_.size()) : 0) +
           BytesFieldSize(last_active_.size());
  }

  uint8_t* Write(uint8_t* out) const {
    out = WriteBytesField(kIdField, id_, out);
    if (!record_.subject.empty()) {
      out = WriteBytesField(kSubjectField, record_.subject, out);
    }
    const std::string& details = record_.details.encoded();
    std::memcpy(out, details.data(), details.size());
    out += details.size();
    out = create_time_.WriteField(kCreateTimeField, out);
    out = expire_time_.WriteField(kExpireTimeField, out);
    if (has_idle_timeout()) {
      out = idle_timeout_.WriteField(kIdleTimeoutField, out);
    }
    return last_active_.WriteField(kLastActiveTimeField, out);
  }

 private:
  bool has_idle_timeout() const {
    return record_.idle_timeout > absl::ZeroDuration();
  }

  const SessionRecord& record_;
  const std::string id_;
  const SecondsAndNanos create_time_;
  const SecondsAndNanos expire_time_;
  const SecondsAndNanos idle_timeout_;
  const SecondsAndNanos last_active_;
};

grpc::ByteBuffer WithinOneSlice(size_t size,
                                absl::FunctionRef<uint8_t*(uint8_t*)> write) {
  grpc_slice slice = grpc_slice_malloc(size);
  uint8_t* end = write(GRPC_SLICE_START_PTR(slice));
  if (end != GRPC_SLICE_END_PTR(slice)) {
    // The sizes above and the writing disagree: a bug, and the bytes sent
    // would be garbage or past the slice.
    LogError("ValidateSessionResponse: wrote %d bytes into %d",
             end - GRPC_SLICE_START_PTR(slice), size);
    std::abort();
  }
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&owned, 1);
}

}  // namespace

grpc::ByteBuffer EncodeValidateResponse(const Validation& verdict) {
  if (!verdict.valid()) {
    const uint64_t reason = static_cast<uint64_t>(ToProto(verdict.reason));
    return WithinOneSlice(VarintFieldSize(reason), [&](uint8_t* out) {
      return WriteVarintField(kReasonField, reason, out);
    });
  }
  const SessionFields session(*verdict.session);
  const size_t session_size = session.size();
  return WithinOneSlice(
      VarintFieldSize(1) + BytesFieldSize(session_size), [&](uint8_t* out) {
        out = WriteVarintField(kValidField, 1, out);
        out = WriteLengthPrefix(kSessionField, session_size, out);
        return session.Write(out);
      });
}

}  // namespace sessiond
