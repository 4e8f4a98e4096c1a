#include "mrcnn/data/dataset_image.h"

#include <fmt/format.h>

#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/io/image.h"

namespace mrcnn::data {

at::Tensor read_dataset_image(const std::string& image_dir, const coco::Image& image) {
  const std::string path = join_path(image_dir, image.file_name);
  const at::Tensor rgb = io::decode_image_file(path);
  if (rgb.size(0) != image.height || rgb.size(1) != image.width) {
    throw Error(ErrorLocation{.file = path, .record = "image id " + std::to_string(image.id)},
                fmt::format("the file is {}x{} but the annotations say {}x{} (width x height)",
                            rgb.size(1), rgb.size(0), image.width, image.height));
  }
  return rgb;
}

}  // namespace mrcnn::data
