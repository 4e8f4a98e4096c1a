#include "mrcnn/serving/detections_json.h"

#include <fmt/format.h>

#include "mrcnn/coco/polygons.h"
#include "mrcnn/common/json_writer.h"
#include "mrcnn/evaluation/results_writer.h"

namespace mrcnn::serving {
namespace {

std::string list_json(const double* values, std::size_t count) {
  std::string text = "[";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) text += ", ";
    text += json_number(values[i]);
  }
  return text + "]";
}

std::string polygons_json(const coco::Result& result) {
  const coco::Rle rle =
      coco::rle_from_string(result.segmentation.undecoded_counts, result.segmentation.rle.height,
                            result.segmentation.rle.width);
  std::string text = "[";
  for (const std::vector<double>& polygon : coco::rle_to_polygons(rle)) {
    if (text.size() > 1) text += ", ";
    text += list_json(polygon.data(), polygon.size());
  }
  return text + "]";
}

std::string detection_json(const coco::Result& r, const structures::LabelMap& labels,
                           MaskFormat masks) {
  JsonObject entry;
  entry.add_raw("bbox", list_json(r.bbox->data(), 4))
      .add("category_id", r.category_id)
      .add("category_name", labels.category_name(r.category_id))
      .add("score", r.score);
  const coco::Segmentation& s = r.segmentation;
  if (masks == MaskFormat::kRle) {
    entry.add_raw("segmentation",
                  fmt::format(R"({{"size": [{}, {}], "counts": "{}"}})", s.rle.height, s.rle.width,
                              json_escape(s.undecoded_counts)));
  } else if (masks == MaskFormat::kPolygon) {
    entry.add_raw("segmentation", polygons_json(r));
  }
  return entry.str();
}

}  // namespace

std::string image_answer_json(const std::string& name, const ImageOutcome& outcome,
                              const ImageTimings& timings, const structures::LabelMap& labels,
                              const PredictOptions& options) {
  // The results infer --save_results writes (image id unused here), then the client's limits.
  const std::vector<coco::Result> results = evaluation::coco_results(outcome.detections, 0, labels);
  std::string detections = "[";
  int64_t kept = 0;
  for (const coco::Result& r : results) {
    if (r.score < options.score_threshold) continue;
    if (options.max_detections >= 0 && kept >= options.max_detections) break;
    if (kept++ > 0) detections += ", ";
    detections += detection_json(r, labels, options.masks);
  }
  detections += "]";

  JsonObject answer;
  if (!name.empty()) answer.add("name", name);
  answer.add("width", outcome.detections.image_size[1])
      .add("height", outcome.detections.image_size[0])
      .add_raw("detections", detections)
      .add("batch_size", outcome.batch_size)
      .add_raw("timings_ms", JsonObject()
                                 .add("decode", timings.decode_ms)
                                 .add("queue", outcome.queue_ms)
                                 .add("inference", outcome.inference_ms)
                                 .add("total", timings.total_ms)
                                 .str());
  return answer.str();
}

}  // namespace mrcnn::serving
