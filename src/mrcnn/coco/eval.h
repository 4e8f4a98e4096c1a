// COCO detection evaluation (bbox and segm), computing the same numbers as pycocotools'
// COCOeval: same parameters, same matching rules (crowd regions, ignore flags, area ranges,
// stable score order), same accumulation and summary statistics. Multi-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/results.h"

namespace mrcnn::coco {

struct EvalParams {
  std::vector<double> iou_thresholds;     // .50:.05:.95
  std::vector<double> recall_thresholds;  // 0:.01:1
  std::vector<int64_t> max_detections = {1, 10, 100};
  std::vector<std::array<double, 2>> area_ranges = {
      {0, 1e10}, {0, 1024}, {1024, 9216}, {9216, 1e10}};
  std::vector<std::string> area_labels = {"all", "small", "medium", "large"};
  EvalParams();  // numpy.linspace values, bit for bit
};

struct EvalResult {
  IouType type = IouType::kBbox;
  EvalParams params;
  std::vector<int64_t> category_ids;  // sorted, the K axis
  // precision[T][R][K][A][M] and recall[T][K][A][M], flattened in that order; -1 = no data.
  std::vector<double> precision;
  std::vector<double> recall;
  std::array<double, 12> stats{};
  // Mean precision over IoU thresholds and recall points per category (area all, 100 dets);
  // NaN when the category has no ground truth.
  std::vector<double> per_category_ap;

  // Text reports (report.h has the json one).
  std::string summary() const;  // the 12 familiar lines
  std::string per_category_table(const Dataset& ground_truth) const;
};

// threads: 0 = hardware concurrency.
EvalResult evaluate(const Dataset& ground_truth, const std::vector<Detection>& detections,
                    IouType type, int threads = 0);

// numpy's pairwise summation (what np.mean uses), so that means agree to the last bit.
double numpy_pairwise_sum(const double* values, std::size_t n);

}  // namespace mrcnn::coco
