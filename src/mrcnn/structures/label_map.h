// Model labels <-> a dataset's categories, with one rule for training, evaluation and
// inference. Labels run 1..num_classes (0 is the background):
//   contiguous   label k is the k-th category by increasing id (PaddleDetection, detectron2);
//   category_id  label == category id (torchvision's 91-slot COCO models).
// The dataset's categories must fit the model: contiguous, at most num_classes of them;
// category_id, every id within 1..num_classes. Labels beyond a smaller dataset's categories
// belong to no category and are not reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/coco/dataset.h"

namespace mrcnn::structures {

class LabelMap {
 public:
  enum class Mode { kContiguous, kCategoryId };

  // `source` names where the categories come from, for the error when they do not fit.
  LabelMap(Mode mode, int64_t num_classes, std::vector<coco::Category> categories,
           const std::string& source);
  // num_classes categories "class 1".."class N" with ids 1..N, for models without a dataset.
  static LabelMap unnamed(Mode mode, int64_t num_classes);

  Mode mode() const { return mode_; }
  int64_t num_classes() const { return num_classes_; }
  // Labels with no category of the dataset (contiguous mode with fewer categories).
  int64_t unused_labels() const;

  int64_t label_of(int64_t category_id) const;  // -1: not a category of the dataset
  int64_t category_of(int64_t label) const;     // -1: the label is no category of the dataset
  // The category's name, or "class <id>" for an unknown id.
  std::string category_name(int64_t category_id) const;
  const std::vector<coco::Category>& categories() const { return categories_; }  // by id

 private:
  Mode mode_;
  int64_t num_classes_;
  std::vector<coco::Category> categories_;
};

}  // namespace mrcnn::structures
