// COCO detection evaluation (bbox and segm), computing the same numbers as pycocotools'
// COCOeval: same parameters, same matching rules (crowd regions, ignore flags, area ranges,
// stable score order), same accumulation and summary statistics. Multi-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/data/coco.h"
#include "mrcnn/structures/rle.h"

namespace mrcnn::evaluation {

enum class IouType { kBbox, kSegm };

IouType parse_iou_type(const std::string& name);  // "bbox" | "segm"; throws mrcnn::Error
const char* iou_type_name(IouType type);

struct EvalParams {
  std::vector<double> iou_thresholds;     // .50:.05:.95
  std::vector<double> recall_thresholds;  // 0:.01:1
  std::vector<int64_t> max_detections = {1, 10, 100};
  std::vector<std::array<double, 2>> area_ranges = {
      {0, 1e10}, {0, 1024}, {1024, 9216}, {9216, 1e10}};
  std::vector<std::string> area_labels = {"all", "small", "medium", "large"};
  EvalParams();  // numpy.linspace values, bit for bit
};

// One detection as COCO's loadRes leaves it: id (1-based file order), area and box filled in.
struct Detection {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  double score = 0;
  std::array<double, 4> bbox{};
  double area = 0;
  structures::Rle rle;               // segm only
  std::array<double, 4> mask_box{};  // segm only: rle_to_bbox(rle)
};

// Reads a COCO results file (a json list) as loadRes does for the given evaluation type.
// Results for images that are not in the ground truth are an error, as in pycocotools.
std::vector<Detection> load_results(const std::string& path, const data::CocoDataset& ground_truth,
                                    IouType type);
std::vector<Detection> parse_results(std::string_view json, const std::string& name,
                                     const data::CocoDataset& ground_truth, IouType type);

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

  double precision_at(std::size_t t, std::size_t r, std::size_t k, std::size_t a,
                      std::size_t m) const;
  std::string summary() const;  // the 12 familiar lines
  std::string per_category_table(const data::CocoDataset& ground_truth) const;
};

// threads: 0 = hardware concurrency.
EvalResult evaluate(const data::CocoDataset& ground_truth, const std::vector<Detection>& detections,
                    IouType type, int threads = 0);

// numpy's pairwise summation (what np.mean uses), so that means agree to the last bit.
double numpy_pairwise_sum(const double* values, std::size_t n);

}  // namespace mrcnn::evaluation
