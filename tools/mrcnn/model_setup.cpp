#include "model_setup.h"

#include <filesystem>
#include <iostream>

#include "mrcnn/common/error.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/build.h"
#include "mrcnn/modeling/weights.h"

namespace mrcnn::cli {

std::string resolve_weights_path(const std::string& option, const config::Config& config) {
  const std::string path = option.empty() ? config.weights : option;
  if (path.empty()) throw Error("no weights given: use --weights FILE or -o weights=FILE");
  if (std::filesystem::exists(path)) return path;
  for (const char* extension : {".safetensors", ".pth"}) {
    if (std::filesystem::exists(path + extension)) return path + extension;
  }
  throw Error(ErrorLocation{.file = path}, "weights file not found");
}

modeling::MaskRCNN load_model(const config::Config& config, const std::string& weights_path,
                              const c10::Device& device, bool quiet) {
  modeling::MaskRCNN model(modeling::options_from_config(config));
  const auto report =
      modeling::load_weights(*model, io::load_weights_file(weights_path), {}, weights_path);
  if (!quiet) std::cerr << "weights: " << weights_path << ": " << report.summary() << "\n";
  model->to(device);
  model->eval();
  return model;
}

}  // namespace mrcnn::cli
