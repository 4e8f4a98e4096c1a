// A batch of images as the model takes it: one zero-padded tensor plus each image's size,
// before and after resizing (detectron2's ImageList, torchvision's ImageList).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <vector>

namespace mrcnn::structures {

using ImageSize = std::array<int64_t, 2>;  // height, width

struct ImageList {
  at::Tensor tensor;                      // [N, 3, H, W], zeros to the bottom and right
  std::vector<ImageSize> image_sizes;     // each image inside the padding (after resizing)
  std::vector<ImageSize> original_sizes;  // before resizing: what detections are reported in

  int64_t size() const { return static_cast<int64_t>(image_sizes.size()); }
};

// Images [3, h, w] in one zero-filled [N, 3, H, W] tensor, H and W multiples of `stride`
// (0: no rounding) and at least `at_least`. Original sizes are set equal to the image sizes.
ImageList pad_images(const std::vector<at::Tensor>& images, int64_t stride, bool pin_memory = false,
                     ImageSize at_least = {0, 0});

// How a scaled side becomes whole pixels. The references differ on almost every COCO image
// (480x640 to an 800 px short side: 800x1067 in PaddleDetection, 800x1066 in torchvision), and
// one row or column more or less changes every detection.
enum class SizeRounding {
  kNearest,  // PaddleDetection's Resize: int(scale * side + 0.5)
  kFloor,    // torchvision's GeneralizedRCNNTransform: floor(side * scale)
};

// The size an image is resized to when its short side goes to `short_side` with the long side
// at most `max_size`, the scale computed in double as both references do.
ImageSize resized_size(ImageSize original, int64_t short_side, int64_t max_size,
                       SizeRounding rounding);

}  // namespace mrcnn::structures
