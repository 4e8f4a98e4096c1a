// Where a config's files are: a dataset's files under its dataset_dir, a run's outputs under
// <save_dir>/<config name> (PaddleDetection's layout).
#pragma once

#include <string>

#include "mrcnn/config/config.h"
#include "mrcnn/data/dataset_image.h"

namespace mrcnn::build {

std::string dataset_path(const config::DatasetConfig& dataset, const std::string& relative);
std::string output_dir(const config::Config& config);
// A dataset's image folder with the config's pixel limit and decoding.
data::ImageFolder image_folder(const config::Config& config, const config::DatasetConfig& dataset);
// How the config's images are decoded: as PaddleDetection (OpenCV) decodes them under its
// arithmetic, as PIL and torchvision do under torchvision's (io/image.h).
io::DecodeOptions decode_options(const config::Config& config);

}  // namespace mrcnn::build
