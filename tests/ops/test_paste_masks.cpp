// Thresholded pasting within boxes, against thresholding the full-image paste (ATen's bilinear
// resize of the padded mask, as torchvision pastes), on the CPU and, where there is a GPU, CUDA.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "mrcnn/ops/paste_masks.h"

namespace mrcnn::ops {
namespace {

constexpr double kThreshold = 0.5;
constexpr int64_t kHeight = 90, kWidth = 120;

struct Detections {
  at::Tensor masks, boxes;
};

// Boxes of every kind: inside, across each edge, covering the image, wholly outside, thinner
// than a pixel; then random ones.
Detections detections() {
  at::manual_seed(5);
  const int64_t n = 40;
  const float w = kWidth, h = kHeight;
  const at::Tensor corner =
      at::rand({n, 2}) * at::tensor({1.2f * w, 1.2f * h}) - at::tensor({0.1f * w, 0.1f * h});
  const at::Tensor size = at::rand({n, 2}) * at::tensor({0.6f * w, 0.6f * h});
  at::Tensor boxes = at::cat({corner, corner + size}, 1);
  const at::Tensor special = at::tensor({-50.f, -40.f, -10.f, -5.f,              // outside
                                         10.f, 10.f, 10.3f, 60.f,                // thin
                                         -20.f, -20.f, w + 20.f, h + 20.f,       // covering
                                         w - 5.f, h - 5.f, w + 30.f, h + 30.f})  // corner
                                 .view({4, 4});
  boxes.slice(0, 0, 4).copy_(special);
  return {at::rand({n, 1, 28, 28}), boxes};
}

// Every region drawn into its own image-sized plane: [D, H, W] booleans.
at::Tensor planes(const BinaryMasks& pasted) {
  at::Tensor out =
      at::zeros({static_cast<int64_t>(pasted.regions.size()), kHeight, kWidth}, at::kByte);
  for (std::size_t i = 0; i < pasted.regions.size(); ++i) {
    const MaskRegion& r = pasted.regions[i];
    if (r.w * r.h == 0) continue;
    const at::Tensor bits =
        at::from_blob(const_cast<uint8_t*>(pasted.region_bits(i)), {r.h, r.w}, at::kByte);
    out[static_cast<int64_t>(i)].slice(0, r.y0, r.y0 + r.h).slice(1, r.x0, r.x0 + r.w).copy_(bits);
  }
  return out.to(at::kBool);
}

// Pixels on different sides of the threshold, counted separately for values further from it
// than float rounding (which must not happen) and all.
struct Disagreement {
  int64_t clear = 0, all = 0;
};
Disagreement disagreement(const at::Tensor& bits, const at::Tensor& probabilities) {
  const at::Tensor differ = bits.ne(probabilities.gt(kThreshold));
  const at::Tensor clear = (probabilities - kThreshold).abs().gt(1e-6);
  return {differ.logical_and(clear).sum().item<int64_t>(), differ.sum().item<int64_t>()};
}

TEST(PasteBinaryMasks, AgreeWithThresholdingTheFullImagePaste) {
  const Detections d = detections();
  const at::Tensor full = paste_masks(d.masks, d.boxes, kHeight, kWidth).select(1, 0);
  const BinaryMasks pasted = paste_binary_masks(d.masks, d.boxes, kHeight, kWidth, kThreshold);
  ASSERT_EQ(pasted.regions.size(), 40u);
  const Disagreement differ = disagreement(planes(pasted), full);
  EXPECT_EQ(differ.clear, 0);
  EXPECT_LE(differ.all, 2);
  EXPECT_GT(full.gt(kThreshold).sum().item<int64_t>(), 10000);  // a real amount of mask

  // The outside box has no region; the covering one spans the image.
  EXPECT_EQ(pasted.regions[0].w * pasted.regions[0].h, 0);
  EXPECT_EQ(pasted.regions[2].w, kWidth);
  EXPECT_EQ(pasted.regions[2].h, kHeight);
  int64_t total = 0;
  for (const MaskRegion& r : pasted.regions) total += r.w * r.h;
  EXPECT_EQ(pasted.bits.numel(), total);  // nothing beyond the regions is computed
}

TEST(PasteBinaryMasks, PassesOfAnySizeGiveTheSameBits) {
  const Detections d = detections();
  const BinaryMasks whole = paste_binary_masks(d.masks, d.boxes, kHeight, kWidth, kThreshold);
  for (const int64_t chunk : {int64_t{1}, int64_t{700}, int64_t{5000}}) {
    const BinaryMasks parts =
        paste_binary_masks(d.masks, d.boxes, kHeight, kWidth, kThreshold, chunk);
    EXPECT_TRUE(at::equal(parts.bits, whole.bits)) << "chunk " << chunk;
  }
}

TEST(PasteBinaryMasks, NoDetectionsGiveNoRegions) {
  const BinaryMasks pasted =
      paste_binary_masks(at::rand({0, 1, 28, 28}), at::rand({0, 4}), kHeight, kWidth, kThreshold);
  EXPECT_TRUE(pasted.regions.empty());
  EXPECT_EQ(pasted.bits.numel(), 0);
}

TEST(CudaOps, BinaryMasksMatchCpu) {
  if (at::detail::getCUDAHooks().getNumGPUs() == 0) GTEST_SKIP() << "no CUDA device";
  const Detections d = detections();
  const at::Tensor full = paste_masks(d.masks, d.boxes, kHeight, kWidth).select(1, 0);
  const BinaryMasks pasted = paste_binary_masks(d.masks.cuda(), d.boxes.cuda(), kHeight, kWidth,
                                                kThreshold, /*chunk_bytes=*/3000);
  ASSERT_FALSE(pasted.bits.is_cuda());
  const Disagreement differ = disagreement(planes(pasted), full);
  EXPECT_EQ(differ.clear, 0);
  EXPECT_LE(differ.all, 2);
}

}  // namespace
}  // namespace mrcnn::ops
