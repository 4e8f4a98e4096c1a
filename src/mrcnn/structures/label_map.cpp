#include "mrcnn/structures/label_map.h"

#include <algorithm>

#include "mrcnn/common/error.h"

namespace mrcnn::structures {

LabelMap::LabelMap(Mode mode, int64_t num_classes, std::vector<coco::Category> categories,
                   const std::string& source)
    : mode_(mode), num_classes_(num_classes), categories_(std::move(categories)) {
  std::sort(categories_.begin(), categories_.end(),
            [](const coco::Category& a, const coco::Category& b) { return a.id < b.id; });
  if (mode_ == Mode::kCategoryId) {
    for (const auto& category : categories_) {
      if (category.id < 1 || category.id > num_classes_) {
        throw Error(
            ErrorLocation{.file = source, .record = "category id " + std::to_string(category.id)},
            "label_map is category_id, so every category id must be within 1.." +
                std::to_string(num_classes_) + " (num_classes)");
      }
    }
  } else if (static_cast<int64_t>(categories_.size()) > num_classes_) {
    throw Error(ErrorLocation{.file = source},
                std::to_string(categories_.size()) + " categories do not fit num_classes " +
                    std::to_string(num_classes_) + " (label_map: contiguous)");
  }
}

LabelMap LabelMap::unnamed(Mode mode, int64_t num_classes) {
  std::vector<coco::Category> categories;
  for (int64_t id = 1; id <= num_classes; ++id)
    categories.push_back({id, "class " + std::to_string(id), ""});
  return LabelMap(mode, num_classes, std::move(categories), "");
}

int64_t LabelMap::unused_labels() const {
  return mode_ == Mode::kContiguous ? num_classes_ - static_cast<int64_t>(categories_.size()) : 0;
}

int64_t LabelMap::label_of(int64_t category_id) const {
  const auto it = std::lower_bound(categories_.begin(), categories_.end(), category_id,
                                   [](const coco::Category& c, int64_t id) { return c.id < id; });
  if (it == categories_.end() || it->id != category_id) return -1;
  return mode_ == Mode::kCategoryId ? category_id : (it - categories_.begin()) + 1;
}

int64_t LabelMap::category_of(int64_t label) const {
  if (mode_ == Mode::kCategoryId) return label >= 1 && label <= num_classes_ ? label : -1;
  if (label < 1 || label > static_cast<int64_t>(categories_.size())) return -1;
  return categories_[label - 1].id;
}

std::string LabelMap::category_name(int64_t category_id) const {
  const auto it = std::lower_bound(categories_.begin(), categories_.end(), category_id,
                                   [](const coco::Category& c, int64_t id) { return c.id < id; });
  if (it == categories_.end() || it->id != category_id)
    return "class " + std::to_string(category_id);
  return it->name;
}

}  // namespace mrcnn::structures
