#include "mrcnn/build/labels.h"

#include <filesystem>

#include "mrcnn/build/paths.h"

namespace mrcnn::build {
namespace {

structures::LabelMap::Mode mode_of(const config::Config& config) {
  return config.label_map == "category_id" ? structures::LabelMap::Mode::kCategoryId
                                           : structures::LabelMap::Mode::kContiguous;
}

}  // namespace

structures::LabelMap label_map(const config::Config& config, const coco::Dataset& dataset) {
  return structures::LabelMap(mode_of(config), config.num_classes, dataset.categories,
                              dataset.path);
}

InferenceCategories inference_categories(const config::Config& config) {
  const std::string path = dataset_path(config.test_dataset, config.test_dataset.anno_path);
  if (!config.test_dataset.anno_path.empty() && std::filesystem::is_regular_file(path)) {
    coco::Dataset dataset = coco::load_dataset(path);
    structures::LabelMap labels = label_map(config, dataset);
    return {std::move(dataset), std::move(labels)};
  }
  return {coco::Dataset{}, structures::LabelMap::unnamed(mode_of(config), config.num_classes)};
}

}  // namespace mrcnn::build
