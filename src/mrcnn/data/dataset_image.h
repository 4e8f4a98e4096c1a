// Reading a dataset's image files, checked against the size their annotations give (masks are
// rasterised at that size, so a mismatch would silently misplace them), either one at a time
// as batches need them or all headers up front, so that a bad file is found before a run
// spends hours on the files before it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/io/image.h"

namespace mrcnn::data {

// Where a dataset's images are, the largest image (in pixels) that may be decoded, and how.
struct ImageFolder {
  std::string dir;
  int64_t max_pixels = io::kDefaultMaxImagePixels;
  io::DecodeOptions decode;
};

// uint8 [H, W, 3] RGB. Throws mrcnn::Error naming the file and the image id when the file is
// missing, unreadable, too large, or not the annotated size.
at::Tensor read_dataset_image(const ImageFolder& folder, const coco::Image& image);

struct ImageProblem {
  int64_t image_index = 0;  // into dataset.images
  std::string message;      // names the file and the image id
};

// Reads the header of each listed image (not its pixels), from `threads` threads (0: all
// cores): the problems read_dataset_image would throw for, except corrupt pixel data, in the
// order of `image_indices`.
std::vector<ImageProblem> check_dataset_images(const coco::Dataset& dataset,
                                               const ImageFolder& folder,
                                               const std::vector<int64_t>& image_indices,
                                               int threads = 0);

// Throws mrcnn::Error listing the problems when any image of the dataset cannot be used:
// evaluation scores every image or none.
void require_dataset_images(const coco::Dataset& dataset, const ImageFolder& folder,
                            int threads = 0);

// "N of M images cannot be used:" and up to `listed` of the problems, one per line.
std::string describe_image_problems(const std::vector<ImageProblem>& problems, int64_t checked,
                                    std::size_t listed = 20);

}  // namespace mrcnn::data
