// PaddleDetection's arithmetic, piece by piece, against values worked out by hand from its
// definitions (the whole model is compared with real PaddleDetection in
// tests/cli/test_paddle_parity.py).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "mrcnn/modeling/losses.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/modeling/postprocess.h"
#include "mrcnn/modeling/proposal_generator/anchors.h"
#include "mrcnn/ops/paste_masks_sampled.h"

namespace mrcnn::modeling {
namespace {

std::vector<at::Tensor> feature_maps(const std::vector<std::array<int64_t, 2>>& sizes) {
  std::vector<at::Tensor> maps;
  for (const auto& [h, w] : sizes) maps.push_back(at::zeros({1, 1, h, w}));
  return maps;
}

TEST(PaddleAnchors, CellAnchorsAreExactAndStridesAreTheConfiguredOnes) {
  const AnchorGenerator paddle({{32}, {64}}, {0.5, 1.0, 2.0}, 0.0, {4, 8}, Arithmetic::kPaddle);
  // A 100 x 100 batch would give torchvision strides 100 / 25 = 4 and 100 / 13 = 7.
  const at::Tensor anchors = paddle.grid_anchors(feature_maps({{25, 25}, {13, 13}}), 100, 100);
  ASSERT_EQ(anchors.size(0), 25 * 25 * 3 + 13 * 13 * 3);
  // Ratio 0.5 at size 32: w = sqrt(32^2 / 0.5), h = 0.5 w, centred on the first cell.
  const double w = std::sqrt(1024 / 0.5), h = 0.5 * w;
  const at::Tensor first = anchors[0];
  EXPECT_NEAR(first[0].item<double>(), -w / 2, 1e-5);
  EXPECT_NEAR(first[1].item<double>(), -h / 2, 1e-5);
  EXPECT_NEAR(first[2].item<double>(), w / 2, 1e-5);
  EXPECT_NEAR(first[3].item<double>(), h / 2, 1e-5);
  // Level 2's second cell sits one configured stride (8) to the right.
  const at::Tensor level2_second = anchors[25 * 25 * 3 + 3 + 1];  // ratio 1.0 at x = 8
  EXPECT_NEAR(level2_second[0].item<double>(), 8 - 32.0, 1e-5);
  EXPECT_NEAR(level2_second[2].item<double>(), 8 + 32.0, 1e-5);

  // torchvision's: rounded cells (-23, -11, 23, 11) and the stride the batch implies (7).
  const AnchorGenerator torchvision({{32}, {64}}, {0.5, 1.0, 2.0});
  const at::Tensor tv = torchvision.grid_anchors(feature_maps({{25, 25}, {13, 13}}), 100, 100);
  EXPECT_TRUE(at::equal(tv[0], at::tensor({-23.0f, -11.0f, 23.0f, 11.0f})));
  EXPECT_EQ(tv[25 * 25 * 3 + 3 + 1][0].item<double>(), 7 - 32.0);
}

TEST(PaddleMatcher, LowQualityMatchesNeedSomeOverlap) {
  // Ground truth 1 overlaps nothing: torchvision still gives it its "best" predictions (all
  // of them, tied at 0); PaddleDetection gives it none.
  const at::Tensor quality = at::tensor({0.8f, 0.1f, 0.0f, 0.0f, 0.0f, 0.0f}).view({2, 3});
  const Matcher torchvision(0.7, 0.3, true);
  const Matcher paddle(0.7, 0.3, true, /*low_quality_needs_overlap=*/true);
  EXPECT_TRUE(at::equal(torchvision(quality), at::tensor({0L, 0L, 0L})));
  EXPECT_TRUE(at::equal(paddle(quality), at::tensor({0L, -1L, -1L})));
}

TEST(PaddleLosses, BoxLossesAreL1) {
  const at::Tensor deltas = at::tensor({0.5f, -0.02f, 0.0f, 0.3f}).view({1, 4});
  const at::Tensor targets = at::zeros({1, 4});
  const at::Tensor positive = at::tensor({0L}), negative = at::empty({0}, at::kLong);
  auto [objectness, box] = rpn_loss(at::zeros({1}), deltas, at::tensor({1L}), targets, positive,
                                    negative, /*normaliser=*/4, BoxLoss::kL1);
  EXPECT_NEAR(box.item<double>(), (0.5 + 0.02 + 0.3) / 4, 1e-7);
  EXPECT_NEAR(objectness.item<double>(), std::log(2.0) / 4, 1e-7);  // BCE of logit 0 vs 1

  // Box head: class 1 of 2 for the one foreground RoI, over both RoIs.
  const at::Tensor regression = at::zeros({2, 8});
  regression[0].slice(0, 4, 8).copy_(at::tensor({1.0f, -1.0f, 0.25f, 0.0f}));
  auto [classification, box_head] = fast_rcnn_loss(
      at::zeros({2, 2}), regression, at::tensor({1L, 0L}), at::zeros({2, 4}), 0, BoxLoss::kL1);
  EXPECT_NEAR(box_head.item<double>(), 2.25 / 2, 1e-7);
  EXPECT_NEAR(classification.item<double>(), std::log(2.0), 1e-7);
}

TEST(PaddleMaskTargets, PolygonsAreRasterisedWithinTheirRoI) {
  // The object is the square (10, 10)-(30, 30); the RoI is its left half widened to
  // (0, 10)-(20, 30). In a 4 x 4 target, the RoI's right half (columns 2, 3) is the object.
  const std::vector<structures::Polygons> polygons = {{{10, 10, 30, 10, 30, 30, 10, 30}}};
  const at::Tensor targets = rasterize_polygons_in_boxes(
      polygons, at::tensor({0.0f, 10.0f, 20.0f, 30.0f}).view({1, 4}), at::tensor({0L}), 4);
  const at::Tensor expected =
      at::tensor({0.0f, 0.0f, 1.0f, 1.0f}).view({1, 1, 4}).expand({1, 4, 4});
  EXPECT_TRUE(at::equal(targets, expected)) << targets;
}

TEST(PaddlePaste, SamplesTheMaskAtPixelCentres) {
  // A 2 x 2 mask [[1, 0], [0, 1]] over the box (2, 2)-(6, 6) of a 10 x 10 image: each mask
  // cell covers 2 x 2 pixels, and bilinear sampling between cells gives 0.75 and 0.25 at the
  // pixels next to the cell boundary.
  const at::Tensor mask = at::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({1, 1, 2, 2});
  const at::Tensor box = at::tensor({2.0f, 2.0f, 6.0f, 6.0f}).view({1, 4});
  const ops::BinaryMasks pasted = ops::paste_binary_masks_sampled(mask, box, 10, 10, 0.5);
  ASSERT_EQ(pasted.regions.size(), 1u);
  const ops::MaskRegion& r = pasted.regions[0];
  // The box widened by half a cell (1 px): (1, 1)-(7, 7).
  EXPECT_EQ(r.x0, 1);
  EXPECT_EQ(r.y0, 1);
  EXPECT_EQ(r.w, 6);
  EXPECT_EQ(r.h, 6);
  // Full-image reference: grid_sample at every pixel centre of the image.
  const at::Tensor xs = (at::arange(10, at::kFloat) + 0.5f - 2) / 4 * 2 - 1;
  const at::Tensor grid =
      at::stack({xs.view({1, -1}).expand({10, 10}), xs.view({-1, 1}).expand({10, 10})}, 2);
  const at::Tensor full = at::grid_sampler(mask, grid.unsqueeze(0), 0, 0, false)[0][0] >= 0.5;
  const at::Tensor region =
      at::from_blob(const_cast<uint8_t*>(pasted.region_bits(0)), {6, 6}, at::kByte).to(at::kBool);
  EXPECT_TRUE(at::equal(region, full.slice(0, 1, 7).slice(1, 1, 7)));
  EXPECT_EQ(full.sum().item<int64_t>(), region.sum().item<int64_t>());  // nothing outside
  // Pixel (2, 2), centre (2.5, 2.5): 0.75 x 0.75 of cell 0 (1) and the rest outside the mask
  // (0): 0.5625, in. Pixel (5, 2): cell 1 (0) and outside: out.
  EXPECT_TRUE(region[1][1].item<bool>());
  EXPECT_FALSE(region[1][4].item<bool>());
}

TEST(PaddlePostprocess, BoxesAreDividedByTheScaleClippedAndEmptyOnesDropped) {
  structures::Instances raw;
  raw.image_size = {200, 300};  // resized from 100 x 150: scale 2
  raw.boxes = at::tensor({10.0f, 20.0f, 50.0f, 60.0f, 290.0f, 0.0f, 320.0f, 40.0f, 310.0f, 5.0f,
                          330.0f, 50.0f})
                  .view({3, 4});
  raw.scores = at::tensor({0.9f, 0.8f, 0.7f});
  raw.labels = at::tensor({1L, 2L, 3L});
  raw.mask_probs = at::ones({3, 1, 4, 4});
  const structures::Instances out =
      postprocess(raw, {100, 150}, PostprocessOptions{}, 0, Arithmetic::kPaddle);
  // The third box lies right of the image: clipped to zero width, dropped.
  ASSERT_EQ(out.size(), 2);
  EXPECT_TRUE(at::allclose(
      out.boxes,
      at::tensor({5.0f, 10.0f, 25.0f, 30.0f, 145.0f, 0.0f, 150.0f, 20.0f}).view({2, 4})));
  EXPECT_TRUE(at::equal(out.labels, at::tensor({1L, 2L})));
  ASSERT_EQ(out.mask_rles.size(), 2u);
}

}  // namespace
}  // namespace mrcnn::modeling
