// RoIAlign: hand-computed values, empty inputs, and backward against finite differences.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/generated/variable_factories.h>

#include "mrcnn/ops/aten/ops_aten.h"
#include "mrcnn/ops/nms.h"
#include "mrcnn/ops/roi_align.h"

namespace mrcnn::ops {
namespace {

TEST(RoIAlign, AveragesBilinearSamples) {
  // A 4x4 ramp x + 10 y; one 2x2 bin per RoI, one sample at each bin centre.
  const at::Tensor input =
      (at::arange(4, at::kFloat).view({1, 4}) + 10 * at::arange(4, at::kFloat).view({4, 1}))
          .view({1, 1, 4, 4});
  const at::Tensor rois = at::tensor({0.f, 0.f, 0.f, 2.f, 2.f}).view({1, 5});
  // aligned: the box [0, 2] covers pixel centres -0.5 .. 1.5; bin centres at -0.0 and 1.0
  // after the half-pixel shift -> samples at (y, x) in {0, 1}: mean of 0, 1, 10, 11 = 5.5.
  at::Tensor out =
      roi_align_forward(input, rois, {.pooled_height = 1, .pooled_width = 1, .sampling_ratio = 2});
  EXPECT_NEAR(out.item<float>(), 5.5f, 1e-6);
  // A linear function is reproduced exactly by bilinear sampling: the bin centre's value.
  out = roi_align_forward(
      input, rois, {.pooled_height = 2, .pooled_width = 2, .sampling_ratio = 1, .aligned = false});
  // unaligned: bins of size 1 starting at 0, centres at 0.5 and 1.5.
  EXPECT_TRUE(at::allclose(out.view({4}), at::tensor({5.5f, 6.5f, 15.5f, 16.5f})));
}

TEST(RoIAlign, EmptyRoisGiveEmptyOutput) {
  const at::Tensor input = at::randn({2, 3, 8, 8});
  const at::Tensor out = roi_align(input, at::empty({0, 5}), {});
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 3, 7, 7}));
}

TEST(RoIAlign, BackwardMatchesFiniteDifferences) {
  for (const bool aligned : {false, true}) {
    for (const int64_t sampling : {0, 2}) {
      at::manual_seed(7);
      at::Tensor input = at::randn({1, 2, 6, 7}, at::kDouble).requires_grad_(true);
      const at::Tensor rois =
          at::tensor({0.0, 0.3, 0.7, 5.1, 4.2, 0.0, -1.0, 2.0, 3.5, 6.9}, at::kDouble).view({2, 5});
      const RoIAlignOptions o{.pooled_height = 3,
                              .pooled_width = 2,
                              .spatial_scale = 0.9,
                              .sampling_ratio = sampling,
                              .aligned = aligned};
      const at::Tensor weights = at::randn({2, 2, 3, 2}, at::kDouble);
      (roi_align(input, rois, o) * weights).sum().backward();
      const at::Tensor analytic = input.grad().clone();
      const at::Tensor x = input.detach().clone();
      const double eps = 1e-6;
      for (int64_t i = 0; i < x.numel(); ++i) {
        at::Tensor plus = x.clone(), minus = x.clone();
        plus.view(-1)[i] += eps;
        minus.view(-1)[i] -= eps;
        const double numeric =
            ((roi_align_forward(plus, rois, o) * weights).sum().item<double>() -
             (roi_align_forward(minus, rois, o) * weights).sum().item<double>()) /
            (2 * eps);
        EXPECT_NEAR(analytic.view(-1)[i].item<double>(), numeric, 1e-6) << "element " << i;
      }
    }
  }
}

TEST(RoIAlign, AtenPathMatchesTheKernelForwardAndBackward) {
  at::manual_seed(3);
  const at::Tensor input = at::randn({2, 3, 13, 17});
  at::Tensor rois = at::rand({60, 5}) * at::tensor({2.f, 70.f, 55.f, 70.f, 55.f});
  rois.select(1, 0).floor_();
  rois.slice(1, 3, 5).add_(rois.slice(1, 1, 3));  // x2 >= x1, y2 >= y1
  rois.slice(0, 0, 3).slice(1, 3, 5).copy_(rois.slice(0, 0, 3).slice(1, 1, 3) -
                                           2);  // some inverted boxes
  for (const bool aligned : {false, true}) {
    for (const int64_t sampling : {0, 2}) {
      const RoIAlignOptions o{.pooled_height = 5,
                              .pooled_width = 4,
                              .spatial_scale = 0.25,
                              .sampling_ratio = sampling,
                              .aligned = aligned};
      at::Tensor a = input.clone().requires_grad_(true), b = input.clone().requires_grad_(true);
      const at::Tensor kernel = roi_align(a, rois, o);
      const at::Tensor generic = aten::roi_align(b, rois, o);
      EXPECT_TRUE(at::allclose(kernel, generic, 1e-5, 1e-6)) << (kernel - generic).abs().max();
      const at::Tensor grad = at::randn(kernel.sizes());
      kernel.backward(grad);
      generic.backward(grad);
      EXPECT_TRUE(at::allclose(a.grad(), b.grad(), 1e-4, 1e-5))
          << (a.grad() - b.grad()).abs().max();
    }
  }
}

TEST(Nms, AtenPathMatchesTheKernel) {
  at::manual_seed(5);
  const at::Tensor xy = at::rand({300, 2}) * 100;
  const at::Tensor boxes = at::cat({xy, xy + at::rand({300, 2}) * 40 + 1}, 1);
  const at::Tensor scores = at::rand({300});
  for (const double threshold : {0.3, 0.5, 0.7}) {
    EXPECT_TRUE(at::equal(nms(boxes, scores, threshold), aten::nms(boxes, scores, threshold)))
        << threshold;
  }
}

TEST(Nms, KeepsTheBestOfEachOverlappingGroup) {
  const at::Tensor boxes = at::tensor({0.f, 0.f, 10.f, 10.f, 1.f, 1.f, 11.f, 11.f, 20.f, 20.f, 30.f,
                                       30.f, 0.f, 0.f, 10.f, 10.f})
                               .view({4, 4});
  const at::Tensor scores = at::tensor({0.9f, 0.95f, 0.5f, 0.95f});
  // Box 1 (0.95) comes first; box 3 ties with it but comes later and overlaps it (IoU 0.68).
  EXPECT_TRUE(at::equal(nms(boxes, scores, 0.5), at::tensor({1L, 2L})));
  EXPECT_TRUE(at::equal(nms(boxes, scores, 0.9), at::tensor({1L, 3L, 2L})));
  EXPECT_EQ(nms(at::empty({0, 4}), at::empty({0}), 0.5).numel(), 0);
  // Different groups never suppress each other.
  EXPECT_TRUE(at::equal(batched_nms(boxes, scores, at::tensor({0L, 1L, 0L, 0L}), 0.5),
                        at::tensor({1L, 3L, 2L})));
}

TEST(Nms, ManyBoxesGroupByGroupAsOneShiftedNms) {
  // Over 1000 boxes takes the per-group path on the CPU; one NMS over boxes shifted apart by
  // group must keep the same boxes in the same order.
  at::manual_seed(3);
  const int64_t n = 2500;
  const at::Tensor xy = at::rand({n, 2}) * 200;
  const at::Tensor boxes = at::cat({xy, xy + at::rand({n, 2}) * 60 + 1}, 1);
  const at::Tensor scores = at::rand({n});
  const at::Tensor groups = at::randint(1, 8, {n}, at::kLong);  // labels 1..7, unordered
  const at::Tensor shifted = boxes + groups.to(at::kFloat).unsqueeze(1) * 1000;
  for (const double threshold : {0.3, 0.7}) {
    const at::Tensor kept = batched_nms(boxes, scores, groups, threshold);
    EXPECT_GT(kept.numel(), 7);
    EXPECT_TRUE(at::equal(kept, nms(shifted, scores, threshold))) << threshold;
  }
}

}  // namespace
}  // namespace mrcnn::ops
