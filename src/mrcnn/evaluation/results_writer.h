// A model's final detections as COCO results: the entries of bbox.json and mask.json, written
// entry by entry into files that appear only when complete, and kept as coco::Result records
// so that evaluation scores exactly what the files say without reading them back.
#pragma once

#include <string>
#include <vector>

#include "mrcnn/coco/results.h"
#include "mrcnn/common/file.h"
#include "mrcnn/structures/instances.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::evaluation {

// One image's final detections (boxes in the image, encoded masks) in COCO terms: category
// ids through the label map (labels with no category are left out), boxes as [x, y, w, h],
// masks as compressed RLE. Each result carries both the box and the mask.
std::vector<coco::Result> coco_results(const structures::Instances& detections, int64_t image_id,
                                       const structures::LabelMap& labels);

// The results file lines: {"image_id", "category_id", "score", "bbox"} for bbox.json,
// {..., "segmentation": {"size", "counts"}} for mask.json.
std::string box_entry(const coco::Result& result);
std::string mask_entry(const coco::Result& result);

// A COCO results file (a json list) written entry by entry; `path` is replaced only by
// finish(), so an interrupted run never leaves a truncated file.
class ResultsFile {
 public:
  explicit ResultsFile(const std::string& path) : file_(path) {}
  void add(const std::string& entry);
  void finish();
  const std::string& path() const { return file_.path(); }

 private:
  AtomicFileWriter file_;
  bool empty_ = true;
};

// Both files of a run, with the results kept for scoring in memory.
class ResultsWriter {
 public:
  // Empty folder: nothing is written, the results are only kept.
  explicit ResultsWriter(const std::string& output_dir);
  void add(const std::vector<coco::Result>& image_results);
  // Finishes the files; the kept results as bbox.json and mask.json would be read back.
  void finish();
  std::vector<coco::Result> box_results() const;
  std::vector<coco::Result> mask_results() const;
  std::string bbox_path() const { return boxes_ ? boxes_->path() : std::string(); }
  std::string mask_path() const { return masks_ ? masks_->path() : std::string(); }

 private:
  std::unique_ptr<ResultsFile> boxes_, masks_;
  std::vector<coco::Result> results_;
};

}  // namespace mrcnn::evaluation
