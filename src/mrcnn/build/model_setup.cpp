#include "mrcnn/build/model_setup.h"

#include <filesystem>

#include "mrcnn/build/model.h"
#include "mrcnn/common/error.h"
#include "mrcnn/io/download.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/weights.h"

namespace mrcnn::build {

std::string resolve_weights_path(const std::string& path, const config::Config& config) {
  const std::string chosen = path.empty() ? config.weights : path;
  if (chosen.empty()) throw Error("no weights given: use --weights FILE or -o weights=FILE");
  if (io::is_url(chosen) || std::filesystem::exists(chosen)) return chosen;  // URLs: fetched
  for (const char* extension : {".safetensors", ".pth"}) {
    if (std::filesystem::exists(chosen + extension)) return chosen + extension;
  }
  throw Error(ErrorLocation{.file = chosen}, "weights file not found");
}

modeling::MaskRCNN load_model(const config::Config& config, const std::string& weights_path,
                              const c10::Device& device, std::ostream* notes) {
  modeling::MaskRCNN model(model_options(config));
  const auto report =
      modeling::load_weights(*model, io::load_weights_file(weights_path), {}, weights_path);
  if (notes != nullptr) *notes << "weights: " << weights_path << ": " << report.summary() << "\n";
  model->to(device);
  model->eval();
  return model;
}

}  // namespace mrcnn::build
