// Running a model over a COCO dataset: predictions as COCO results (bbox.json, mask.json),
// then the COCO evaluation of both. Masks are pasted, thresholded and RLE-encoded only within
// each detection's box, so memory does not grow with the image count or size.
#pragma once

#include <c10/core/Device.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "mrcnn/config/config.h"
#include "mrcnn/data/coco.h"
#include "mrcnn/evaluation/coco_eval.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::evaluation {

// Model labels -> COCO category ids.
struct LabelMapping {
  bool label_is_category_id = false;  // torchvision's COCO models
  std::vector<int64_t> category_ids;  // sorted; label k -> category_ids[k - 1]
  int64_t category_of(int64_t label) const;
};

// Labels to category ids for the config's label_map, checked against the dataset's categories.
LabelMapping label_mapping(const config::Config& config, const data::CocoDataset& categories);

// The categories (ids and names) a model's detections are reported in: those of
// TestDataset.anno_path when that file exists, else ids 1..num_classes named "class <id>".
data::CocoDataset inference_categories(const config::Config& config);

struct ImageDetections {
  int64_t image_id = 0;
  std::vector<std::array<double, 4>> boxes_xywh;
  std::vector<double> scores;
  std::vector<int64_t> category_ids;
  std::vector<structures::Rle> masks;  // at the image's size
};

// Predicts one decoded image (uint8 [H, W, 3]) and converts to COCO terms.
ImageDetections detect(modeling::MaskRCNN& model, const at::Tensor& image_rgb,
                       const c10::Device& device, const LabelMapping& labels, double mask_threshold,
                       int64_t image_id);

// A COCO results file written entry by entry (memory does not grow with the dataset) into a
// temporary file that replaces `path` only when finished.
class ResultsFile {
 public:
  explicit ResultsFile(std::string path);
  ~ResultsFile();
  void add(const std::string& entry);
  void finish();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool empty_ = true;
};

// One image's detections as COCO results entries: bbox.json's and mask.json's.
struct ResultEntries {
  std::vector<std::string> boxes, masks;
};
ResultEntries result_entries(const ImageDetections& d);

// Appends one image's detections to bbox.json- and mask.json-style files.
void write_results(const ImageDetections& d, ResultsFile& boxes, ResultsFile& masks);

// Data-parallel evaluation: rank r predicts images r, r + world_size, ...; gather_to_root hands
// every rank's bytes to rank 0 (in rank order), which writes the files in dataset order and
// scores them, so the results equal a single process's.
struct EvalSharding {
  int64_t rank = 0;
  int64_t world_size = 1;
  std::function<std::vector<std::string>(const std::string& bytes)> gather_to_root;
};

struct DatasetEvaluation {
  bool scored = true;  // false on ranks other than 0 of a sharded evaluation
  std::string bbox_json_path, mask_json_path;
  EvalResult bbox, segm;
  double images_per_second = 0;
};

// Runs over every image of `dataset` (images read from image_dir), writes
// output_dir/bbox.json and output_dir/mask.json, and evaluates them.
DatasetEvaluation evaluate_model(
    modeling::MaskRCNN& model, const data::CocoDataset& dataset, const std::string& image_dir,
    const c10::Device& device, const LabelMapping& labels, double mask_threshold,
    const std::string& output_dir,
    const std::function<void(int64_t done, int64_t total, double seconds)>& progress,
    const EvalSharding& sharding = {});

}  // namespace mrcnn::evaluation
