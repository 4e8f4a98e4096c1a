#include "mrcnn/build/paths.h"

#include "mrcnn/common/file.h"

namespace mrcnn::build {

std::string dataset_path(const config::DatasetConfig& dataset, const std::string& relative) {
  return join_path(dataset.dataset_dir, relative);
}

std::string output_dir(const config::Config& config) {
  return join_path(config.save_dir, config.config_name);
}

data::ImageFolder image_folder(const config::Config& config, const config::DatasetConfig& dataset) {
  return {.dir = dataset_path(dataset, dataset.image_dir),
          .max_pixels = config.max_image_pixels,
          .decode = decode_options(config)};
}

io::DecodeOptions decode_options(const config::Config& config) {
  const bool paddle = config.arithmetic == "paddle";
  return {.exif_orientation = paddle, .drop_alpha = paddle};
}

}  // namespace mrcnn::build
