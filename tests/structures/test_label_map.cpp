// Model labels <-> dataset categories: one rule for training, evaluation and inference.
#include <gtest/gtest.h>

#include "mrcnn/common/error.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::structures {
namespace {

const std::vector<coco::Category> kCategories = {{7, "cat", ""}, {3, "dog", ""}, {12, "owl", ""}};

TEST(LabelMap, ContiguousLabelsFollowTheIdOrder) {
  const LabelMap map(LabelMap::Mode::kContiguous, 3, kCategories, "gt.json");
  EXPECT_EQ(map.label_of(3), 1);
  EXPECT_EQ(map.label_of(7), 2);
  EXPECT_EQ(map.label_of(12), 3);
  EXPECT_EQ(map.label_of(5), -1);
  EXPECT_EQ(map.category_of(2), 7);
  EXPECT_EQ(map.category_of(0), -1);
  EXPECT_EQ(map.category_of(4), -1);
  EXPECT_EQ(map.category_name(12), "owl");
  EXPECT_EQ(map.category_name(99), "class 99");
  EXPECT_EQ(map.unused_labels(), 0);
}

TEST(LabelMap, FewerCategoriesFitMoreDoNot) {
  const LabelMap wide(LabelMap::Mode::kContiguous, 80, kCategories, "gt.json");
  EXPECT_EQ(wide.unused_labels(), 77);
  EXPECT_EQ(wide.category_of(4), -1);  // a label beyond the dataset's categories: not reported
  try {
    LabelMap(LabelMap::Mode::kContiguous, 2, kCategories, "gt.json");
    FAIL() << "3 categories fitted 2 classes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gt.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("num_classes 2"), std::string::npos) << e.what();
  }
}

TEST(LabelMap, CategoryIdLabelsAreTheIdsWithinNumClasses) {
  const LabelMap map(LabelMap::Mode::kCategoryId, 90, kCategories, "gt.json");
  EXPECT_EQ(map.label_of(12), 12);
  EXPECT_EQ(map.category_of(12), 12);
  EXPECT_EQ(map.category_of(91), -1);
  try {
    LabelMap(LabelMap::Mode::kCategoryId, 10, kCategories, "gt.json");
    FAIL() << "category id 12 fitted 10 classes";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("category id 12"), std::string::npos) << e.what();
  }
  const LabelMap unnamed = LabelMap::unnamed(LabelMap::Mode::kContiguous, 4);
  EXPECT_EQ(unnamed.category_of(4), 4);
  EXPECT_EQ(unnamed.category_name(2), "class 2");
}

}  // namespace
}  // namespace mrcnn::structures
