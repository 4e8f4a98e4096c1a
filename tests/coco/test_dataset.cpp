// The COCO loader: every kind of malformed input gives an error naming the file and record;
// odd but valid records follow the documented training policy.
#include <gtest/gtest.h>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/training_view.h"
#include "mrcnn/common/error.h"

namespace mrcnn::coco {
namespace {

const char* kImages = R"("images": [{"id": 1, "width": 10, "height": 8, "file_name": "a.jpg"},
                                    {"id": 2, "width": 4, "height": 4, "file_name": "b.jpg"}])";
const char* kCategories = R"("categories": [{"id": 7, "name": "cat"}, {"id": 3, "name": "dog"}])";

std::string with_annotations(const std::string& annotations) {
  return std::string("{") + kImages + ", " + kCategories + ", \"annotations\": [" + annotations +
         "]}";
}

std::string error_of(const std::string& json) {
  try {
    parse_dataset(json, "gt.json");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error for " << json;
  return {};
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST(CocoLoader, ReadsAllSegmentationKinds) {
  const Dataset d = parse_dataset(with_annotations(R"(
      {"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 1, 4, 4], "area": 12.5, "iscrowd": 0,
       "segmentation": [[1, 1, 5, 1, 5, 5]]},
      {"id": 2, "image_id": 1, "category_id": 3, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 1,
       "segmentation": {"size": [8, 10], "counts": [0, 2, 6, 2, 70]}},
      {"id": 3, "image_id": 2, "category_id": 3, "bbox": [0, 0, 4, 4], "area": 16,
       "segmentation": {"size": [4, 4], "counts": "0`0"}},
      {"id": 4, "image_id": 2, "category_id": 7, "bbox": [0, 0, 1, 1]})"),
                                  "gt.json");
  ASSERT_EQ(d.annotations.size(), 4u);
  EXPECT_EQ(d.annotations[0].segmentation.kind, Segmentation::Kind::kPolygons);
  EXPECT_EQ(d.annotations[1].segmentation.kind, Segmentation::Kind::kUncompressedRle);
  EXPECT_TRUE(d.annotations[1].iscrowd);
  EXPECT_EQ(d.annotations[2].segmentation.kind, Segmentation::Kind::kRle);
  EXPECT_EQ(rle_area(d.annotations[2].segmentation.rle), 16u);
  EXPECT_EQ(d.annotations[3].segmentation.kind, Segmentation::Kind::kNone);
  EXPECT_FALSE(d.annotations[3].area_given);
  EXPECT_DOUBLE_EQ(d.annotations[3].area, 1.0);  // derived from the box
  EXPECT_EQ(d.sorted_category_ids(), (std::vector<int64_t>{3, 7}));
}

TEST(CocoLoader, SyntaxErrorsGiveAByteOffset) {
  const std::string message = error_of(R"({"images": [{"id": 1, "width": 10,, "height": 8}]})");
  EXPECT_CONTAINS(message, "gt.json");
  EXPECT_CONTAINS(message, "invalid JSON");
  EXPECT_CONTAINS(message, "byte offset");
  EXPECT_CONTAINS(error_of("[1, 2]"), "top level must be a JSON object");
  EXPECT_CONTAINS(error_of(std::string("{") + kImages + ", " + kCategories + "} trailing"),
                  "invalid JSON");
}

TEST(CocoLoader, MissingAndWronglyTypedFieldsNameTheRecord) {
  EXPECT_CONTAINS(error_of(with_annotations(R"({"id": 5, "image_id": 1, "bbox": [0, 0, 1, 1]})")),
                  "annotation id 5 (annotations[0]): missing 'category_id'");
  EXPECT_CONTAINS(error_of(with_annotations(R"({"id": 5, "image_id": 1, "category_id": 7})")),
                  "missing 'bbox'");
  EXPECT_CONTAINS(error_of(with_annotations(
                      R"({"id": "5", "image_id": 1, "category_id": 7, "bbox": [0,0,1,1]})")),
                  "annotations[0]: 'id' must be an integer");
  EXPECT_CONTAINS(error_of(with_annotations(
                      R"({"id": 5, "image_id": 1, "category_id": 7, "bbox": [0, 0, 1]})")),
                  "'bbox' must be [x, y, width, height]");
  EXPECT_CONTAINS(error_of(with_annotations(
                      R"({"id": 5, "image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1e999]})")),
                  "annotations[0]");
  EXPECT_CONTAINS(
      error_of(R"({"images": [{"id": 1, "width": 10, "file_name": "a.jpg"}], "categories": []})"),
      "image id 1 (images[0]): missing 'height'");
  EXPECT_CONTAINS(
      error_of(
          R"({"images": [{"id": 1, "width": -3, "height": 2, "file_name": "a"}], "categories": []})"),
      "'width' must be a positive pixel count");
  EXPECT_CONTAINS(error_of(R"({"categories": []})"), "missing top-level 'images'");
}

TEST(CocoLoader, DuplicateIdsAndUnknownReferences) {
  EXPECT_CONTAINS(error_of(R"({"images": [{"id": 1, "width": 1, "height": 1, "file_name": "a"},
                                          {"id": 1, "width": 1, "height": 1, "file_name": "b"}], "categories": []})"),
                  "image id 1: duplicate id");
  const std::string ann = R"({"id": 9, "image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1]})";
  EXPECT_CONTAINS(error_of(with_annotations(ann + ", " + ann)), "annotation id 9: duplicate id");
  EXPECT_CONTAINS(error_of(with_annotations(
                      R"({"id": 9, "image_id": 42, "category_id": 7, "bbox": [0, 0, 1, 1]})")),
                  "annotation id 9: refers to unknown image id 42");
  EXPECT_CONTAINS(error_of(with_annotations(
                      R"({"id": 9, "image_id": 1, "category_id": 8, "bbox": [0, 0, 1, 1]})")),
                  "refers to unknown category id 8");
}

TEST(CocoLoader, BadPolygonsAndRles) {
  const auto with_segmentation = [](const std::string& segmentation) {
    return with_annotations(
        R"({"id": 3, "image_id": 1, "category_id": 7, "bbox": [0, 0, 1, 1], "segmentation": )" +
        segmentation + "}");
  };
  EXPECT_CONTAINS(error_of(with_segmentation("[[1, 2, 3, 4]]")),
                  "polygon #0 has 2 points; at least 3 are needed");
  EXPECT_CONTAINS(error_of(with_segmentation("[[1, 2, 3, 4, 5, 6, 7]]")),
                  "odd number (7) of coordinates");
  EXPECT_CONTAINS(error_of(with_segmentation(R"([[1, 2, 3, "x", 5, 6]])")),
                  "'segmentation' must be a number");
  EXPECT_CONTAINS(error_of(with_segmentation(R"({"size": [8, 10], "counts": "04"})")),
                  "bad RLE segmentation");
  EXPECT_CONTAINS(error_of(with_segmentation(R"({"size": [4, 4], "counts": "0`0"})")),
                  "differs from image id 1");
  EXPECT_CONTAINS(error_of(with_segmentation(R"({"counts": "04"})")), "needs 'size'");
  EXPECT_CONTAINS(error_of(with_segmentation("7")), "list of polygons or an RLE object");
}

TEST(CocoLoader, MissingFileIsNamed) {
  try {
    load_dataset("/nonexistent/instances.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_CONTAINS(std::string(e.what()), "/nonexistent/instances.json");
  }
}

TEST(TrainingView, ClipsDropsAndCountsByPolicy) {
  const Dataset d = parse_dataset(with_annotations(R"(
      {"id": 1, "image_id": 1, "category_id": 7, "bbox": [-2, 1, 6, 3], "segmentation": [[0, 1, 4, 1, 4, 4]]},
      {"id": 2, "image_id": 1, "category_id": 7, "bbox": [3, 3, 0, 5], "segmentation": [[3, 3, 3, 8, 3, 5]]},
      {"id": 3, "image_id": 1, "category_id": 7, "bbox": [20, 20, 5, 5], "segmentation": [[20, 20, 25, 20, 25, 25]]},
      {"id": 4, "image_id": 1, "category_id": 3, "bbox": [1, 1, 2, 2], "segmentation": []},
      {"id": 5, "image_id": 2, "category_id": 3, "bbox": [0, 0, 2, 2], "iscrowd": 1,
       "segmentation": {"size": [4, 4], "counts": "0`0"}})"),
                                  "gt.json");
  TrainingViewReport report;
  const auto records = training_view(d, {.require_masks = true}, &report);
  ASSERT_EQ(records.size(), 1u);  // image 2 holds only a crowd region
  EXPECT_EQ(records[0].annotation_indices, (std::vector<int64_t>{0}));
  EXPECT_EQ(records[0].boxes_xyxy[0], (std::array<double, 4>{0, 1, 4, 4}));
  EXPECT_EQ(report.boxes_clipped, 1);
  EXPECT_EQ(report.boxes_dropped_degenerate, 2);  // zero width, and fully outside the image
  EXPECT_EQ(report.annotations_dropped_without_mask, 1);
  EXPECT_EQ(report.images_without_annotations, 1);

  const auto boxes_only =
      training_view(d, {.require_masks = false, .keep_empty_images = true}, &report);
  EXPECT_EQ(boxes_only.size(), 2u);
  EXPECT_EQ(boxes_only[0].annotation_indices.size(), 2u);  // the empty-mask annotation is kept
  EXPECT_EQ(report.annotations_dropped_without_mask, 0);
  EXPECT_EQ(report.empty_images_kept, 1);

  // Without is_crowd in data_fields, crowd regions are left out as PaddleDetection does.
  const auto no_crowd = training_view(d, {.keep_crowd = false, .keep_empty_images = true}, &report);
  EXPECT_EQ(report.crowd_annotations_dropped, 1);
  ASSERT_EQ(no_crowd.size(), 2u);
  EXPECT_TRUE(no_crowd[1].annotation_indices.empty());
}

// 12 images: 4 with an object, 8 empty.
Dataset mostly_empty() {
  std::string images = "\"images\": [", annotations;
  for (int i = 1; i <= 12; ++i) {
    images += (i > 1 ? ", " : "") + std::string("{\"id\": ") + std::to_string(i) +
              ", \"width\": 10, \"height\": 10, \"file_name\": \"" + std::to_string(i) + ".jpg\"}";
    if (i % 3 == 0) {
      annotations +=
          (annotations.empty() ? "" : ", ") + std::string("{\"id\": ") + std::to_string(i) +
          ", \"image_id\": " + std::to_string(i) +
          R"(, "category_id": 1, "bbox": [1, 1, 4, 4], "segmentation": [[1, 1, 5, 1, 5, 5]]})";
    }
  }
  return parse_dataset("{" + images +
                           R"(], "categories": [{"id": 1, "name": "a"}], "annotations": [)" +
                           annotations + "]}",
                       "gt.json");
}

TEST(TrainingView, EmptyRatioKeepsThatShareOfEmptyImagesInFileOrder) {
  const Dataset d = mostly_empty();
  TrainingViewReport report;
  // r / (1 - r) empty images per non-empty one: 0.2 / 0.8 * 4 = 1 empty image.
  const auto records =
      training_view(d, {.keep_empty_images = true, .empty_ratio = 0.2, .seed = 3}, &report);
  EXPECT_EQ(records.size(), 5u);
  EXPECT_EQ(report.empty_images_kept, 1);
  EXPECT_EQ(report.images_without_annotations, 8);
  for (std::size_t i = 1; i < records.size(); ++i)
    EXPECT_LT(records[i - 1].image_index, records[i].image_index);
  // 0.5: as many empty images as others; the same seed makes the same choice.
  const auto half =
      training_view(d, {.keep_empty_images = true, .empty_ratio = 0.5, .seed = 3}, &report);
  const auto again =
      training_view(d, {.keep_empty_images = true, .empty_ratio = 0.5, .seed = 3}, nullptr);
  EXPECT_EQ(half.size(), 8u);
  for (std::size_t i = 0; i < half.size(); ++i)
    EXPECT_EQ(half[i].image_index, again[i].image_index);
  // 1 (the default) keeps them all; without allow_empty none.
  EXPECT_EQ(training_view(d, {.keep_empty_images = true, .empty_ratio = 1.0}, nullptr).size(), 12u);
  EXPECT_EQ(training_view(d, {.keep_empty_images = false, .empty_ratio = 0.5}, nullptr).size(), 4u);
}

}  // namespace
}  // namespace mrcnn::coco
