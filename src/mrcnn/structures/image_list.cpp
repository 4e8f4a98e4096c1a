#include "mrcnn/structures/image_list.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace mrcnn::structures {

ImageList pad_images(const std::vector<at::Tensor>& images, int64_t stride, bool pin_memory,
                     ImageSize at_least) {
  TORCH_CHECK(!images.empty(), "no images to batch");
  ImageList batch;
  int64_t max_h = at_least[0], max_w = at_least[1];
  for (const auto& image : images) {
    TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "expected [3, H, W] images, got ",
                image.sizes());
    batch.image_sizes.push_back({image.size(1), image.size(2)});
    max_h = std::max(max_h, image.size(1));
    max_w = std::max(max_w, image.size(2));
  }
  batch.original_sizes = batch.image_sizes;
  stride = std::max<int64_t>(stride, 1);
  max_h = (max_h + stride - 1) / stride * stride;
  max_w = (max_w + stride - 1) / stride * stride;
  batch.tensor = at::zeros({static_cast<int64_t>(images.size()), 3, max_h, max_w},
                           images.front().options().pinned_memory(pin_memory));
  for (std::size_t i = 0; i < images.size(); ++i) {
    batch.tensor[static_cast<int64_t>(i)]
        .slice(1, 0, images[i].size(1))
        .slice(2, 0, images[i].size(2))
        .copy_(images[i]);
  }
  return batch;
}

ImageSize resized_size(ImageSize original, int64_t short_side, int64_t max_size,
                       SizeRounding rounding) {
  const auto [height, width] = original;
  const double scale =
      std::min(static_cast<double>(short_side) / static_cast<double>(std::min(height, width)),
               static_cast<double>(max_size) / static_cast<double>(std::max(height, width)));
  const auto side = [&](int64_t length) {
    const double scaled = static_cast<double>(length) * scale;
    return static_cast<int64_t>(rounding == SizeRounding::kNearest ? scaled + 0.5
                                                                   : std::floor(scaled));
  };
  return {side(height), side(width)};
}

}  // namespace mrcnn::structures
