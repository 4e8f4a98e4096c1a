// Reading a dataset's image file, checked against the size its annotations give (masks are
// rasterised at that size, so a mismatch would silently misplace them).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "mrcnn/coco/dataset.h"

namespace mrcnn::data {

// uint8 [H, W, 3] RGB. Throws mrcnn::Error naming the file and the image id when the file is
// missing, unreadable, or not the annotated size.
at::Tensor read_dataset_image(const std::string& image_dir, const coco::Image& image);

}  // namespace mrcnn::data
