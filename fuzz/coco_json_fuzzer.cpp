// libFuzzer target: the COCO annotation and results readers on arbitrary bytes. Malformed
// input must end in mrcnn::Error, never in a crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/eval.h"
#include "mrcnn/coco/training_view.h"
#include "mrcnn/common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const mrcnn::coco::Dataset dataset = mrcnn::coco::parse_dataset(text, "fuzz.json");
    for (const auto& annotation : dataset.annotations) (void)dataset.annotation_rle(annotation);
    mrcnn::coco::TrainingViewReport report;
    (void)mrcnn::coco::training_view(dataset, {.keep_empty_images = true, .empty_ratio = 0.5},
                                     &report);
    // The same bytes as a results file against a fixed tiny ground truth.
  } catch (const mrcnn::Error&) {
  }
  static const mrcnn::coco::Dataset ground_truth = mrcnn::coco::parse_dataset(
      R"({"images": [{"id": 1, "width": 8, "height": 6, "file_name": "a.jpg"}],
          "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3], "area": 9,
                           "segmentation": [[1, 1, 4, 1, 4, 4]]}]})",
      "gt.json");
  for (auto type : {mrcnn::coco::IouType::kBbox, mrcnn::coco::IouType::kSegm}) {
    try {
      const auto detections = mrcnn::coco::parse_results(text, "fuzz.json", ground_truth, type);
      (void)mrcnn::coco::evaluate(ground_truth, detections, type, 1);
    } catch (const mrcnn::Error&) {
    }
  }
  return 0;
}
