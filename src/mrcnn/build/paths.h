// Where a config's files are: a dataset's files under its dataset_dir, a run's outputs under
// <save_dir>/<config name> (PaddleDetection's layout).
#pragma once

#include <string>

#include "mrcnn/config/config.h"

namespace mrcnn::build {

std::string dataset_path(const config::DatasetConfig& dataset, const std::string& relative);
std::string output_dir(const config::Config& config);

}  // namespace mrcnn::build
