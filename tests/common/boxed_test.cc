// Boxed: unset until something is stored, read as a default, copied as a
// value (a copy never shares what the original holds).

#include "service/common/boxed.h"

#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace sessiond {
namespace {

TEST(BoxedTest, UnsetReadsAsDefault) {
  const Boxed<std::string> box;
  EXPECT_FALSE(box.has_value());
  EXPECT_EQ(*box, "");
  EXPECT_TRUE(box->empty());
  EXPECT_FALSE(box.has_value()) << "reading must not set the box";
}

TEST(BoxedTest, MutableSetsTheBox) {
  Boxed<std::string> box;
  box.Mutable() = "kept";
  EXPECT_TRUE(box.has_value());
  EXPECT_EQ(*box, "kept");
  box.reset();
  EXPECT_FALSE(box.has_value());
  EXPECT_EQ(*box, "");
}

TEST(BoxedTest, CopiesAreIndependent) {
  Boxed<std::string> original;
  original.Mutable() = "first";
  Boxed<std::string> copy = original;
  copy.Mutable() = "second";
  EXPECT_EQ(*original, "first");
  EXPECT_EQ(*copy, "second");

  Boxed<std::string> assigned;
  assigned = original;
  original.Mutable() = "third";
  EXPECT_EQ(*assigned, "first");

  const Boxed<std::string> unset;
  assigned = unset;
  EXPECT_FALSE(assigned.has_value());
}

TEST(BoxedTest, MovingTakesTheValue) {
  Boxed<std::string> from;
  from.Mutable() = "moved";
  Boxed<std::string> to = std::move(from);
  EXPECT_EQ(*to, "moved");
}

TEST(BoxedTest, AnUnsetBoxCostsOnePointer) {
  EXPECT_EQ(sizeof(Boxed<std::string>), sizeof(void*));
}

}  // namespace
}  // namespace sessiond
