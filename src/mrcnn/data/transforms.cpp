#include "mrcnn/data/transforms.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <random>

namespace mrcnn::data {
namespace {

ImageSize target_size(ImageSize original, const std::array<int64_t, 2>& target,
                      const TransformOptions& options) {
  if (!options.keep_ratio) return {target[0], target[1]};
  return structures::resized_size(original, std::min(target[0], target[1]),
                                  std::max(target[0], target[1]), options.size_rounding);
}

at::Tensor resize(const at::Tensor& image, ImageSize size, Interpolation interp) {
  const at::Tensor batch = image.unsqueeze(0);
  switch (interp) {
    case Interpolation::kNearest:
      return at::upsample_nearest2d(batch, {size[0], size[1]})[0];
    case Interpolation::kBilinear:
      return at::upsample_bilinear2d(batch, {size[0], size[1]}, false)[0];
    case Interpolation::kBicubic:
      return at::upsample_bicubic2d(batch, {size[0], size[1]}, false)[0];
    case Interpolation::kArea:
      return at::adaptive_avg_pool2d(batch, {size[0], size[1]})[0];
  }
  TORCH_CHECK(false, "unknown interpolation");
}

// Made on the host and sent without waiting for a GPU's queue to drain.
at::Tensor channel_constants(const std::array<double, 3>& values, const c10::Device& device) {
  return at::tensor(std::vector<double>(values.begin(), values.end()), at::kFloat)
      .view({3, 1, 1})
      .to(device, /*non_blocking=*/true);
}

}  // namespace

SampleGeometry sample_geometry(ImageSize original, const TransformOptions& options, uint64_t seed) {
  // Drawn from the raw engine output: the standard distributions differ between libraries.
  std::mt19937_64 rng(seed);
  SampleGeometry g;
  g.size = original;
  if (!options.target_sizes.empty()) {
    const auto& target = options.target_sizes[rng() % options.target_sizes.size()];
    g.size = target_size(original, target, options);
  }
  g.flip = static_cast<double>(rng() >> 11) * 0x1.0p-53 < options.flip_probability;
  return g;
}

SampleGeometry fixed_geometry(ImageSize original, const TransformOptions& options) {
  SampleGeometry g;
  g.size = options.target_sizes.empty()
               ? original
               : target_size(original, options.target_sizes.front(), options);
  return g;
}

at::Tensor transform_image(const at::Tensor& rgb, const SampleGeometry& geometry,
                           const TransformOptions& options) {
  TORCH_CHECK(rgb.dim() == 3 && rgb.size(2) == 3 && rgb.scalar_type() == at::kByte,
              "expected a uint8 [H, W, 3] image, got ", rgb.sizes(), " ", rgb.scalar_type());
  at::Tensor image = rgb.permute({2, 0, 1}).to(at::kFloat);
  if (options.normalize) {
    image = image.div_(255)
                .sub_(channel_constants(options.mean, image.device()))
                .div_(channel_constants(options.std, image.device()));
  }
  if (geometry.size != ImageSize{rgb.size(0), rgb.size(1)}) {
    image = resize(image, geometry.size, options.interp);
  }
  if (geometry.flip) image = image.flip({-1});
  return image.contiguous();
}

at::Tensor transform_masks(const at::Tensor& masks, const SampleGeometry& geometry) {
  const auto [h, w] = geometry.size;
  at::Tensor out = masks.size(0) > 0 ? at::upsample_nearest2d(masks.unsqueeze(1), {h, w}).squeeze(1)
                                     : at::zeros({0, h, w}, masks.options());
  if (geometry.flip) out = out.flip({-1});
  return out.contiguous();
}

structures::ImageList preprocess_images(const std::vector<at::Tensor>& rgb_images,
                                        const TransformOptions& options,
                                        const c10::Device& device) {
  std::vector<at::Tensor> images;
  std::vector<ImageSize> originals;
  for (const at::Tensor& rgb : rgb_images) {
    const ImageSize original{rgb.size(0), rgb.size(1)};
    originals.push_back(original);
    images.push_back(transform_image(rgb.to(device), fixed_geometry(original, options), options));
  }
  structures::ImageList batch = structures::pad_images(images, options.pad_to_stride);
  batch.original_sizes = std::move(originals);
  return batch;
}

}  // namespace mrcnn::data
