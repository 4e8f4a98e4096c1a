// The one image preprocessing of the library: training, evaluation, inference and the C++ API
// all go through it. It is PaddleDetection's reader pipeline -- Decode, Resize or RandomResize,
// RandomFlip, NormalizeImage, Permute, PadBatch -- on tensors: the image becomes float in 0..1,
// is normalised, resized with the configured interpolation, flipped, and padded into a batch.
// The same operations in the same order on every device, so a GPU preprocesses what the CPU
// would, and the CPU gives the same bits whichever thread runs it.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <array>
#include <cstdint>
#include <vector>

#include "mrcnn/structures/image_list.h"

namespace mrcnn::data {

using structures::ImageSize;
using structures::SizeRounding;

// OpenCV's interpolation codes, which PaddleDetection's `interp` uses: 0..3.
enum class Interpolation { kNearest = 0, kBilinear = 1, kBicubic = 2, kArea = 3 };

struct TransformOptions {
  // The sizes one is drawn from per image; empty: images keep their size. With keep_ratio,
  // {a, b} scales the short side to min(a, b) with the long side at most max(a, b); without,
  // it is the {height, width} to resize to.
  std::vector<std::array<int64_t, 2>> target_sizes = {{800, 1333}};
  bool keep_ratio = true;
  SizeRounding size_rounding = SizeRounding::kNearest;  // of kept-ratio sizes
  // Of the image (masks always take the nearest pixel). Area is average pooling over each
  // output pixel's footprint (torch's "area" mode); when enlarging it repeats pixels.
  Interpolation interp = Interpolation::kBicubic;
  double flip_probability = 0;
  // mean and std apply to images scaled to 0..1; without normalisation, pixels stay 0..255.
  bool normalize = true;
  std::array<double, 3> mean = {0.485, 0.456, 0.406};
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  int64_t pad_to_stride = 32;  // batches are padded to multiples of this (0: not rounded)

  bool operator==(const TransformOptions&) const = default;
};

// Where one image goes, drawn from `seed` (which size, whether flipped): no pixels are read,
// so every rank can know the sizes of a whole global batch.
struct SampleGeometry {
  ImageSize size{};  // after resizing
  bool flip = false;
};
SampleGeometry sample_geometry(ImageSize original, const TransformOptions& options, uint64_t seed);
// For evaluation and inference: the first size, no flip.
SampleGeometry fixed_geometry(ImageSize original, const TransformOptions& options);

// uint8 [H, W, 3] RGB -> float [3, h, w] resized, flipped and normalised, on its device.
at::Tensor transform_image(const at::Tensor& rgb, const SampleGeometry& geometry,
                           const TransformOptions& options);
// uint8 [G, H, W] instance masks -> [G, h, w], nearest pixel, flipped like their image.
at::Tensor transform_masks(const at::Tensor& masks, const SampleGeometry& geometry);

// Decoded images (uint8 [H, W, 3]) for the model: moved to `device`, transformed at their
// fixed geometry and padded into one batch whose original sizes are the decoded ones.
structures::ImageList preprocess_images(const std::vector<at::Tensor>& rgb_images,
                                        const TransformOptions& options, const c10::Device& device);

}  // namespace mrcnn::data
