#include "mrcnn/ops/paste_masks.h"

#include <ATen/ATen.h>

#include "mrcnn/ops/cpu/kernels.h"
#ifdef MRCNN_WITH_CUDA
#include "mrcnn/ops/cuda/kernels.h"
#endif

namespace mrcnn::ops {
namespace {

constexpr int64_t kPadding = 1;
constexpr int64_t kMaxRegionsPerPass = 65535;  // a CUDA grid's y dimension
#ifdef MRCNN_WITH_CUDA
constexpr bool kCudaKernels = true;
#else
constexpr bool kCudaKernels = false;
#endif

// Boxes enlarged about their centres by `scale`, truncated to integers.
at::Tensor expand_boxes(const at::Tensor& boxes, double scale) {
  const at::Tensor w_half = (boxes.select(1, 2) - boxes.select(1, 0)) * 0.5 * scale;
  const at::Tensor h_half = (boxes.select(1, 3) - boxes.select(1, 1)) * 0.5 * scale;
  const at::Tensor x_c = (boxes.select(1, 2) + boxes.select(1, 0)) * 0.5;
  const at::Tensor y_c = (boxes.select(1, 3) + boxes.select(1, 1)) * 0.5;
  return at::stack({x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half}, 1).to(at::kLong);
}

// Each mask's integer box (enlarged for the padding) and its part inside the image, for
// masks [D, 1, M, M] and boxes [D, 4]; offsets count the pixels of the regions before.
std::vector<MaskRegion> mask_regions(const at::Tensor& masks, const at::Tensor& boxes,
                                     int64_t height, int64_t width) {
  const int64_t m = masks.size(-1);
  const at::Tensor int_boxes =
      expand_boxes(boxes, double(m + 2 * kPadding) / m).cpu().contiguous();  // waits for a GPU
  std::vector<MaskRegion> regions(masks.size(0));
  int64_t total = 0;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const int64_t* box = int_boxes.data_ptr<int64_t>() + 4 * i;
    MaskRegion& r = regions[i];
    r.box_x0 = box[0];
    r.box_y0 = box[1];
    r.box_w = std::max<int64_t>(box[2] - box[0] + 1, 1);
    r.box_h = std::max<int64_t>(box[3] - box[1] + 1, 1);
    r.x0 = std::max<int64_t>(box[0], 0);
    r.y0 = std::max<int64_t>(box[1], 0);
    r.w = std::max<int64_t>(std::min<int64_t>(box[2] + 1, width) - r.x0, 0);
    r.h = std::max<int64_t>(std::min<int64_t>(box[3] + 1, height) - r.y0, 0);
    if (r.w == 0 || r.h == 0) r.w = r.h = 0;
    r.offset = total;
    total += r.w * r.h;
  }
  return regions;
}

// One mask padded, resized to its integer box by ATen and placed in an image-sized canvas.
at::Tensor paste_one(const at::Tensor& padded, const MaskRegion& r, int64_t height, int64_t width) {
  at::Tensor canvas = at::zeros({height, width}, padded.options());
  if (r.w == 0) return canvas;
  const at::Tensor resized = at::upsample_bilinear2d(
      padded.view({1, 1, padded.size(-2), padded.size(-1)}), {r.box_h, r.box_w}, false)[0][0];
  canvas.slice(0, r.y0, r.y0 + r.h)
      .slice(1, r.x0, r.x0 + r.w)
      .copy_(resized.slice(0, r.y0 - r.box_y0, r.y0 - r.box_y0 + r.h)
                 .slice(1, r.x0 - r.box_x0, r.x0 - r.box_x0 + r.w));
  return canvas;
}

}  // namespace

at::Tensor paste_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                       int64_t width) {
  TORCH_CHECK(masks.dim() == 4 && masks.size(1) == 1, "paste_masks: masks must be [D, 1, M, M]");
  const at::Tensor padded = at::constant_pad_nd(masks, {kPadding, kPadding, kPadding, kPadding}, 0);
  const std::vector<MaskRegion> regions = mask_regions(masks, boxes, height, width);
  std::vector<at::Tensor> pasted;
  for (int64_t i = 0; i < masks.size(0); ++i) {
    pasted.push_back(paste_one(padded[i][0], regions[i], height, width));
  }
  if (pasted.empty()) return at::empty({0, 1, height, width}, masks.options());
  return at::stack(pasted, 0).unsqueeze(1);
}

const uint8_t* BinaryMasks::region_bits(std::size_t i) const {
  return bits.data_ptr<uint8_t>() + regions.at(i).offset;
}

BinaryMasks paste_binary_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                               int64_t width, double threshold, int64_t chunk_bytes) {
  TORCH_CHECK(masks.dim() == 4 && masks.size(1) == 1 && masks.size(2) == masks.size(3),
              "paste_binary_masks: masks must be [D, 1, M, M], got ", masks.sizes());
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(0) == masks.size(0) && boxes.size(1) == 4,
              "paste_binary_masks: boxes must be [D, 4] for ", masks.size(0), " masks");
  const int64_t count = masks.size(0);
  BinaryMasks out;
  out.regions = mask_regions(masks, boxes, height, width);
  const int64_t total =
      count == 0 ? 0 : out.regions.back().offset + out.regions.back().w * out.regions.back().h;
  // Pinned, so that the copies from a GPU are direct.
  out.bits = at::empty({total}, at::TensorOptions(at::kByte).pinned_memory(masks.is_cuda()));
  const at::Tensor probabilities = masks.select(1, 0).to(at::kFloat).contiguous();
  // Devices without a kernel of ours paste on the CPU.
  const bool on_cpu = !(masks.is_cuda() && kCudaKernels);
  const at::Tensor cpu_probabilities = on_cpu ? probabilities.cpu() : at::Tensor();
  at::Tensor device_buffer;
  for (int64_t first = 0; first < count;) {
    const int64_t base = out.regions[first].offset;
    int64_t last = first + 1;
    while (last < count && last - first < kMaxRegionsPerPass &&
           out.regions[last].offset + out.regions[last].w * out.regions[last].h - base <=
               chunk_bytes) {
      ++last;
    }
    const int64_t bytes = (last < count ? out.regions[last].offset : total) - base;
    std::vector<MaskRegion> chunk(out.regions.begin() + first, out.regions.begin() + last);
    for (MaskRegion& r : chunk) r.offset -= base;
    const float limit = static_cast<float>(threshold);
    if (on_cpu) {
      cpu::paste_binary(cpu_probabilities.narrow(0, first, last - first), chunk, limit,
                        out.bits.data_ptr<uint8_t>() + base);
    } else {
#ifdef MRCNN_WITH_CUDA
      if (!device_buffer.defined() || device_buffer.numel() < bytes) {
        device_buffer = at::empty({bytes}, probabilities.options().dtype(at::kByte));
      }
      cuda::paste_binary(probabilities.narrow(0, first, last - first), chunk, limit, device_buffer);
      out.bits.narrow(0, base, bytes).copy_(device_buffer.narrow(0, 0, bytes));
#endif
    }
    first = last;
  }
  return out;
}

}  // namespace mrcnn::ops
