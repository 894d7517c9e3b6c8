// CountedCall counts each call once: moved into a callback, only the last
// holder counts it, and a call dropped without an answer (a callback
// destroyed unrun) counts as CANCELLED, as does a call the interceptor saw
// end without a status. Answered calls are counted end to end in
// tests/server/metrics_end_to_end_test.cc.

#include "service/api/counted_call.h"

#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;

class RecordingCounter final : public MethodCounter {
 public:
  void Started() override { ++started; }
  void Handled(grpc::StatusCode code, double seconds) override {
    handled.push_back(code);
    EXPECT_GE(seconds, 0);
  }

  int started = 0;
  std::vector<grpc::StatusCode> handled;
};

TEST(CountedCallTest, ADroppedCallCountsAsCancelledOnce) {
  RecordingCounter counter;
  {
    CountedCall call(&counter);
    EXPECT_EQ(counter.started, 1);
    CountedCall moved(std::move(call));
    CountedCall moved_again(std::move(moved));
    EXPECT_TRUE(counter.handled.empty());
  }
  EXPECT_EQ(counter.started, 1);
  EXPECT_THAT(counter.handled, ElementsAre(grpc::StatusCode::CANCELLED));
}

// The metrics interceptor counts with Count when the status goes out; the
// call is then not counted again when it ends.
TEST(CountedCallTest, CountedStatusIsNotCountedAgain) {
  RecordingCounter counter;
  {
    CountedCall call(&counter);
    call.Count(grpc::StatusCode::NOT_FOUND);
    call.Count(grpc::StatusCode::OK);
  }
  EXPECT_EQ(counter.started, 1);
  EXPECT_THAT(counter.handled, ElementsAre(grpc::StatusCode::NOT_FOUND));
}

TEST(CountedCallTest, NullCounterCountsNothing) {
  CountedCall call(nullptr);
  CountedCall moved(std::move(call));
}

}  // namespace
}  // namespace sessiond
