// Running a model over a COCO dataset: every image through the one preprocessing
// (data/transforms.h) and the model, the detections as COCO results (bbox.json, mask.json, the
// run's outputs), then the COCO evaluation of those same results, scored in memory. Masks are
// pasted, thresholded and RLE-encoded only within each detection's box, so memory does not grow
// with the image size.
#pragma once

#include <c10/core/Device.h>

#include <functional>
#include <string>
#include <vector>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/eval.h"
#include "mrcnn/data/dataset_image.h"
#include "mrcnn/data/transforms.h"
#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::evaluation {

// Data-parallel evaluation: rank r predicts images r, r + world_size, ...; gather_to_root hands
// every rank's bytes to rank 0 (in rank order), which writes the files in dataset order and
// scores them, so the results equal a single process's.
struct EvalSharding {
  int64_t rank = 0;
  int64_t world_size = 1;
  std::function<std::vector<std::string>(const std::string& bytes)> gather_to_root;
};

struct DatasetEvalOptions {
  data::ImageFolder images;
  std::string output_dir;  // for bbox.json and mask.json; empty: none written
  data::TransformOptions transform;
  int64_t batch_size = 1;  // images per forward pass (each padded to the batch's largest)
  c10::Device device{c10::kCPU};
};

struct DatasetEvaluation {
  bool scored = true;  // false on ranks other than 0 of a sharded evaluation
  std::string bbox_json_path, mask_json_path;
  coco::EvalResult bbox, segm;
  double images_per_second = 0;
};

// Called with done 0 at the start, then after every batch.
using EvalProgress = std::function<void(int64_t done, int64_t total, double seconds)>;

// Runs the model (in eval mode) over every image of `dataset`, writes and scores the results.
DatasetEvaluation evaluate_model(modeling::MaskRCNN& model, const coco::Dataset& dataset,
                                 const structures::LabelMap& labels,
                                 const DatasetEvalOptions& options,
                                 const EvalProgress& progress = {},
                                 const EvalSharding& sharding = {});

}  // namespace mrcnn::evaluation
