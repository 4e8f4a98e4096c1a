#include <gtest/gtest.h>

#include "mrcnn/common/strings.h"

namespace mrcnn {
namespace {

TEST(EditDistance, HandComputedCases) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("base_lr", "base_lrr"), 1u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(ClosestMatch, SuggestsOnlyPlausibleTypos) {
  const std::vector<std::string> keys = {"batch_size", "shuffle", "drop_last"};
  EXPECT_EQ(closest_match("batchsize", keys), "batch_size");
  EXPECT_EQ(closest_match("SHUFFLE", keys), "shuffle");
  EXPECT_EQ(closest_match("learning_rate", keys), "");
  EXPECT_EQ(closest_match("x", {}), "");
}

TEST(Split, KeepsEmptyParts) {
  EXPECT_EQ(split("a.b.c", '.'), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split("a..b", '.'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("", '.'), (std::vector<std::string>{""}));
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
}

}  // namespace
}  // namespace mrcnn
