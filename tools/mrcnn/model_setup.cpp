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
                              const c10::Device& device) {
  modeling::MaskRCNN model(modeling::options_from_config(config));
  const auto report =
      modeling::load_weights(*model, io::load_weights_file(weights_path), {}, weights_path);
  std::cerr << "weights: " << weights_path << ": " << report.summary() << "\n";
  model->to(device);
  model->eval();
  return model;
}

evaluation::LabelMapping label_mapping(const config::Config& config,
                                       const data::CocoDataset& dataset) {
  evaluation::LabelMapping mapping;
  mapping.category_ids = dataset.sorted_category_ids();
  if (config.label_map == "category_id") {
    mapping.label_is_category_id = true;
    for (int64_t id : mapping.category_ids) {
      if (id < 1 || id > config.num_classes) {
        throw Error(ErrorLocation{.file = dataset.path},
                    "category id " + std::to_string(id) +
                        " does not fit label_map: category_id with num_classes " +
                        std::to_string(config.num_classes));
      }
    }
  } else if (static_cast<int64_t>(mapping.category_ids.size()) != config.num_classes) {
    throw Error(ErrorLocation{.file = dataset.path},
                "the dataset has " + std::to_string(mapping.category_ids.size()) +
                    " categories but num_classes is " + std::to_string(config.num_classes));
  }
  return mapping;
}

}  // namespace mrcnn::cli
