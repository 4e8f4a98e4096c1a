#include "mrcnn/build/paths.h"

#include "mrcnn/common/file.h"

namespace mrcnn::build {

std::string dataset_path(const config::DatasetConfig& dataset, const std::string& relative) {
  return join_path(dataset.dataset_dir, relative);
}

std::string output_dir(const config::Config& config) {
  return join_path(config.save_dir, config.config_name);
}

}  // namespace mrcnn::build
