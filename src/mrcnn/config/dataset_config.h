// The dataset sections of a config (TrainDataset, EvalDataset, TestDataset).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mrcnn::config {

// `TrainDataset: !COCODataSet {...}`: the YAML tag names the dataset class and lands in `type`.
struct DatasetConfig {
  static constexpr bool kTypeFromTag = true;
  std::string type = "COCODataSet";  // COCODataSet | ImageFolder
  std::string dataset_dir = "dataset/coco";
  std::string image_dir;  // under dataset_dir; TestDataset's is what `infer` reads by default
  std::string anno_path;  // under dataset_dir; TestDataset's gives the category names
  // The annotation fields training reads (PaddleDetection's names): Mask R-CNN needs image,
  // gt_bbox, gt_class and gt_poly; with is_crowd, crowd regions are flagged and ignored in
  // matching, without it they are left out. Evaluation reads the file as pycocotools does.
  std::vector<std::string> data_fields;
  bool allow_empty = false;  // keep images without annotations (training skips them otherwise)
  // With allow_empty: empty images make up about this fraction of the kept ones (< 0 or >= 1:
  // all are kept), as PaddleDetection samples them.
  double empty_ratio = 1.0;

  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("dataset_dir", s.dataset_dir);
    v("image_dir", s.image_dir);
    v("anno_path", s.anno_path);
    v("data_fields", s.data_fields);
    v("allow_empty", s.allow_empty);
    v("empty_ratio", s.empty_ratio);
  }
};

}  // namespace mrcnn::config
