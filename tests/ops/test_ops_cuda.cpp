// CUDA kernels against the CPU kernels. Skipped on machines without a GPU.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "mrcnn/ops/nms.h"
#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/ops/roi_align.h"

namespace mrcnn::ops {
namespace {

bool have_gpu() { return at::detail::getCUDAHooks().getNumGPUs() > 0; }

TEST(CudaOps, RoIAlignForwardAndBackwardMatchCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(11);
  const at::Tensor input = at::randn({2, 8, 40, 52});
  at::Tensor rois = at::rand({300, 5}) * at::tensor({2.f, 200.f, 150.f, 100.f, 100.f});
  rois.select(1, 0).floor_();
  rois.slice(1, 3, 5).add_(rois.slice(1, 1, 3));
  for (const bool aligned : {false, true}) {
    for (const int64_t sampling : {0, 2}) {
      const RoIAlignOptions o{.pooled_height = 7,
                              .pooled_width = 7,
                              .spatial_scale = 0.25,
                              .sampling_ratio = sampling,
                              .aligned = aligned};
      at::Tensor cpu_in = input.clone().requires_grad_(true);
      at::Tensor gpu_in = input.cuda().requires_grad_(true);
      const at::Tensor cpu_out = roi_align(cpu_in, rois, o);
      const at::Tensor gpu_out = roi_align(gpu_in, rois.cuda(), o);
      EXPECT_TRUE(at::allclose(gpu_out.cpu(), cpu_out, 1e-5, 1e-5));
      const at::Tensor grad = at::randn(cpu_out.sizes());
      cpu_out.backward(grad);
      gpu_out.backward(grad.cuda());
      EXPECT_TRUE(at::allclose(gpu_in.grad().cpu(), cpu_in.grad(), 1e-4, 1e-4));
    }
  }
}

TEST(CudaOps, NmsMatchesCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(12);
  const at::Tensor xy = at::rand({3000, 2}) * 500;
  const at::Tensor boxes = at::cat({xy, xy + at::rand({3000, 2}) * 80 + 1}, 1);
  const at::Tensor scores = at::rand({3000});
  for (const double threshold : {0.3, 0.5, 0.7}) {
    EXPECT_TRUE(at::equal(nms(boxes.cuda(), scores.cuda(), threshold).cpu(),
                          nms(boxes, scores, threshold)));
  }
  // 3000 boxes in 8 groups: one shifted NMS on the GPU, a loop over groups on the CPU. Whole
  // pixel coordinates, so that shifting is exact and both see the same overlaps.
  const at::Tensor groups = at::randint(0, 8, {3000}, at::kLong);
  const at::Tensor whole = boxes.round();
  EXPECT_TRUE(at::equal(batched_nms(whole.cuda(), scores.cuda(), groups.cuda(), 0.5).cpu(),
                        batched_nms(whole, scores, groups, 0.5)));
}

TEST(CudaOps, PastedMasksMatchCpu) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor masks = at::rand({20, 1, 28, 28});
  const at::Tensor boxes =
      at::tensor({10.f, 20.f, 200.f, 180.f}).repeat({20, 1}) + at::rand({20, 4}) * 30;
  EXPECT_TRUE(at::allclose(paste_masks(masks.cuda(), boxes.cuda(), 240, 320).cpu(),
                           paste_masks(masks, boxes, 240, 320), 1e-5, 1e-5));
}

}  // namespace
}  // namespace mrcnn::ops
