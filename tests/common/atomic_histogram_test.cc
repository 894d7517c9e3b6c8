// AtomicHistogram: Prometheus' bucket rule (a value equal to a bound falls in
// that bound's bucket), cumulative counts, the sum, and no lost observation
// under concurrent observers.

#include "service/common/atomic_histogram.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sessiond {
namespace {

using ::testing::ElementsAre;

TEST(ExponentialBoundsTest, MultipliesFromTheStart) {
  EXPECT_THAT(ExponentialBounds(1, 2, 4), ElementsAre(1, 2, 4, 8));
  EXPECT_TRUE(ExponentialBounds(1, 2, 0).empty());
}

TEST(AtomicHistogramTest, CountsCumulativelyWithBoundsInclusive) {
  AtomicHistogram histogram({1, 2, 4});
  for (double value : {0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 100.0}) {
    histogram.Observe(value);
  }
  AtomicHistogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(snapshot.bounds, ElementsAre(1, 2, 4));
  // <=1: 0.5, 1; <=2: +1.5, 2; <=4: +3, 4; +Inf: +100.
  EXPECT_THAT(snapshot.cumulative, ElementsAre(2, 4, 6, 7));
  EXPECT_EQ(snapshot.count(), 7u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 112.0);
}

TEST(AtomicHistogramTest, EmptyReadsZero) {
  AtomicHistogram histogram(ExponentialBounds(50e-6, 2, 18));
  AtomicHistogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.cumulative.size(), 19u);
  EXPECT_EQ(snapshot.count(), 0u);
  EXPECT_EQ(snapshot.sum, 0);
}

TEST(AtomicHistogramTest, ConcurrentObserversLoseNothing) {
  AtomicHistogram histogram({1, 10});
  constexpr int kThreads = 4;
  constexpr int kEach = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&histogram, t] {
      for (int i = 0; i < kEach; ++i) histogram.Observe(t % 2 == 0 ? 1 : 5);
    });
  }
  for (std::thread& thread : threads) thread.join();
  AtomicHistogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(snapshot.cumulative,
              ElementsAre(2 * kEach, 4 * kEach, 4 * kEach));
  EXPECT_DOUBLE_EQ(snapshot.sum, 2.0 * kEach * 1 + 2.0 * kEach * 5);
}

}  // namespace
}  // namespace sessiond
