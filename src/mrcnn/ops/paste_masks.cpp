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

// The part of one pasted mask that can be non-zero: values [y1 - y0, x1 - x0] placed at
// (x0, y0) of the image (everything else is 0). Empty when the box lies outside.
struct PastedRegion {
  at::Tensor values;
  int64_t x0 = 0, y0 = 0;
};

// Boxes enlarged about their centres by `scale`, truncated to integers.
at::Tensor expand_boxes(const at::Tensor& boxes, double scale) {
  const at::Tensor w_half = (boxes.select(1, 2) - boxes.select(1, 0)) * 0.5 * scale;
  const at::Tensor h_half = (boxes.select(1, 3) - boxes.select(1, 1)) * 0.5 * scale;
  const at::Tensor x_c = (boxes.select(1, 2) + boxes.select(1, 0)) * 0.5;
  const at::Tensor y_c = (boxes.select(1, 3) + boxes.select(1, 1)) * 0.5;
  return at::stack({x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half}, 1).to(at::kLong);
}

// Resizes the padded mask to its integer box and keeps the part inside the image.
PastedRegion paste_region(const at::Tensor& padded, const int64_t* box, int64_t height,
                          int64_t width) {
  const int64_t w = std::max<int64_t>(box[2] - box[0] + 1, 1);
  const int64_t h = std::max<int64_t>(box[3] - box[1] + 1, 1);
  const int64_t x0 = std::max<int64_t>(box[0], 0), x1 = std::min<int64_t>(box[2] + 1, width);
  const int64_t y0 = std::max<int64_t>(box[1], 0), y1 = std::min<int64_t>(box[3] + 1, height);
  if (x1 <= x0 || y1 <= y0) return {at::empty({0, 0}, padded.options()), 0, 0};
  const at::Tensor resized = at::upsample_bilinear2d(
      padded.view({1, 1, padded.size(-2), padded.size(-1)}), {h, w}, false)[0][0];
  return {resized.slice(0, y0 - box[1], y1 - box[1]).slice(1, x0 - box[0], x1 - box[0]), x0, y0};
}

at::Tensor paste_one(const at::Tensor& padded, const int64_t* box, int64_t height, int64_t width) {
  at::Tensor canvas = at::zeros({height, width}, padded.options());
  const PastedRegion region = paste_region(padded, box, height, width);
  if (region.values.numel() > 0) {
    canvas.slice(0, region.y0, region.y0 + region.values.size(0))
        .slice(1, region.x0, region.x0 + region.values.size(1))
        .copy_(region.values);
  }
  return canvas;
}

}  // namespace

at::Tensor paste_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                       int64_t width) {
  TORCH_CHECK(masks.dim() == 4 && masks.size(1) == 1, "paste_masks: masks must be [D, 1, M, M]");
  const int64_t m = masks.size(-1);
  const double scale = double(m + 2 * kPadding) / m;
  const at::Tensor padded = at::constant_pad_nd(masks, {kPadding, kPadding, kPadding, kPadding}, 0);
  const at::Tensor int_boxes = expand_boxes(boxes, scale).cpu().contiguous();
  std::vector<at::Tensor> pasted;
  for (int64_t i = 0; i < masks.size(0); ++i) {
    pasted.push_back(paste_one(padded[i][0], int_boxes.data_ptr<int64_t>() + 4 * i, height, width));
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
  const int64_t count = masks.size(0), m = masks.size(-1);
  const at::Tensor int_boxes =
      expand_boxes(boxes, double(m + 2 * kPadding) / m).cpu().contiguous();  // the one sync
  BinaryMasks out;
  out.regions.resize(count);
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t* box = int_boxes.data_ptr<int64_t>() + 4 * i;
    MaskRegion& r = out.regions[i];
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
