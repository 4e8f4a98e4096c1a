// Instances: indexing and moving act on every field at once.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "mrcnn/structures/boxes.h"
#include "mrcnn/structures/instances.h"

namespace mrcnn::structures {
namespace {

Instances three_detections() {
  Instances d;
  d.image_size = {20, 30};
  d.boxes =
      at::tensor({0.f, 0.f, 10.f, 10.f, 5.f, 5.f, 15.f, 25.f, 1.f, 2.f, 3.f, 4.f}).view({3, 4});
  d.scores = at::tensor({0.9f, 0.5f, 0.7f});
  d.labels = at::tensor({1L, 2L, 1L});
  d.mask_probs = at::rand({3, 1, 28, 28});
  for (uint32_t k = 0; k < 3; ++k) d.mask_rles.push_back(coco::Rle{20, 30, {k, 600 - k}});
  return d;
}

TEST(Instances, IndexTakesTheSameRowsOfEveryField) {
  const Instances d = three_detections();
  EXPECT_EQ(d.size(), 3);
  const Instances kept = d.index(at::tensor({2L, 0L}));
  EXPECT_EQ(kept.size(), 2);
  EXPECT_EQ(kept.image_size, d.image_size);
  EXPECT_TRUE(at::equal(kept.boxes[0], d.boxes[2]));
  EXPECT_TRUE(at::equal(kept.scores, at::tensor({0.7f, 0.9f})));
  EXPECT_TRUE(at::equal(kept.labels, at::tensor({1L, 1L})));
  EXPECT_TRUE(at::equal(kept.mask_probs[1], d.mask_probs[0]));
  ASSERT_EQ(kept.mask_rles.size(), 2u);
  EXPECT_EQ(kept.mask_rles[0], d.mask_rles[2]);
  EXPECT_FALSE(kept.crowd.defined());  // absent fields stay absent
  // A mask selects the same way.
  const Instances confident = d.index(d.scores > 0.6);
  EXPECT_TRUE(at::equal(confident.labels, at::tensor({1L, 1L})));
  EXPECT_EQ(confident.mask_rles[1], d.mask_rles[2]);
}

TEST(Instances, MovingSplitsCrowdFlagsOnTheHost) {
  Instances t;
  t.boxes = at::zeros({3, 4});
  t.crowd = at::tensor({0, 1, 0}).to(at::kBool);
  EXPECT_TRUE(at::equal(regular_indices(t), at::tensor({0L, 2L})));
  const Instances moved = t.to(c10::Device(c10::kCPU));
  ASSERT_TRUE(moved.regular_index.defined());
  EXPECT_TRUE(at::equal(moved.regular_index, at::tensor({0L, 2L})));
  EXPECT_TRUE(at::equal(moved.crowd_index, at::tensor({1L})));
}

TEST(Boxes, AreaIouClipAndRescaleByHand) {
  const at::Tensor a = at::tensor({0.f, 0.f, 2.f, 2.f}).view({1, 4});
  const at::Tensor b = at::tensor({1.f, 1.f, 3.f, 3.f, 5.f, 5.f, 6.f, 6.f}).view({2, 4});
  EXPECT_TRUE(at::allclose(box_area(b), at::tensor({4.f, 1.f})));
  EXPECT_TRUE(at::allclose(box_iou(a, b), at::tensor({1.f / 7, 0.f}).view({1, 2})));
  EXPECT_TRUE(at::equal(clip_boxes_to_image(at::tensor({-1.f, 2.f, 9.f, 12.f}).view({1, 4}), 10, 8),
                        at::tensor({0.f, 2.f, 8.f, 10.f}).view({1, 4})));
  EXPECT_TRUE(at::equal(large_enough(b, 1.5), at::tensor({1, 0}).to(at::kBool)));
  EXPECT_TRUE(at::allclose(rescale_boxes(a, {10, 20}, {20, 10}),
                           at::tensor({0.f, 0.f, 1.f, 4.f}).view({1, 4})));
}

TEST(ImageList, PadsToTheStrideAndKeepsEachSize) {
  const ImageList batch = pad_images({at::ones({3, 5, 7}), at::ones({3, 9, 2})}, 4);
  EXPECT_EQ(batch.tensor.sizes(), (std::vector<int64_t>{2, 3, 12, 8}));
  EXPECT_EQ(batch.image_sizes, (std::vector<ImageSize>{{5, 7}, {9, 2}}));
  EXPECT_EQ(batch.tensor[0].sum().item<double>(), 3 * 5 * 7);  // zeros around the image
  // The short side to 800, unless the long side would pass its cap.
  for (auto rounding : {SizeRounding::kNearest, SizeRounding::kFloor}) {
    EXPECT_EQ(resized_size({400, 600}, 800, 1333, rounding), (ImageSize{800, 1200}));
    EXPECT_EQ(resized_size({100, 1000}, 800, 1500, rounding), (ImageSize{150, 1500}));
  }
  // 480 x 640 scaled by 800 / 480: 800 x 1066.67, rounded or floored; the scale is exact in
  // double, so 480 rows give 800 (not 799) either way.
  EXPECT_EQ(resized_size({480, 640}, 800, 1333, SizeRounding::kNearest), (ImageSize{800, 1067}));
  EXPECT_EQ(resized_size({480, 640}, 800, 1333, SizeRounding::kFloor), (ImageSize{800, 1066}));
  EXPECT_EQ(resized_size({640, 427}, 800, 1333, SizeRounding::kNearest), (ImageSize{1199, 800}));
  EXPECT_EQ(resized_size({640, 427}, 800, 1333, SizeRounding::kFloor), (ImageSize{1199, 800}));
}

}  // namespace
}  // namespace mrcnn::structures
