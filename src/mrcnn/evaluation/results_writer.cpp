#include "mrcnn/evaluation/results_writer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>

#include "mrcnn/common/file.h"
#include "mrcnn/common/json_writer.h"

namespace mrcnn::evaluation {

std::vector<coco::Result> coco_results(const structures::Instances& detections, int64_t image_id,
                                       const structures::LabelMap& labels) {
  const at::Tensor boxes = detections.boxes.cpu().to(at::kDouble).contiguous();
  const at::Tensor scores = detections.scores.cpu().to(at::kDouble).contiguous();
  const at::Tensor classes = detections.labels.cpu().contiguous();
  std::vector<coco::Result> out;
  const double* b = boxes.data_ptr<double>();
  for (int64_t i = 0; i < detections.size(); ++i) {
    const int64_t category = labels.category_of(classes.data_ptr<int64_t>()[i]);
    if (category < 0) continue;
    coco::Result r;
    r.image_id = image_id;
    r.category_id = category;
    r.score = scores.data_ptr<double>()[i];
    r.bbox = {b[4 * i], b[4 * i + 1], b[4 * i + 2] - b[4 * i], b[4 * i + 3] - b[4 * i + 1]};
    const coco::Rle& mask = detections.mask_rles.at(static_cast<std::size_t>(i));
    r.segmentation.kind = coco::Segmentation::Kind::kRle;
    r.segmentation.rle = coco::Rle{mask.height, mask.width, {}};
    r.segmentation.undecoded_counts = coco::rle_to_string(mask);
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

JsonObject entry_head(const coco::Result& r) {
  JsonObject entry;
  entry.add("image_id", r.image_id).add("category_id", r.category_id).add("score", r.score);
  return entry;
}

}  // namespace

std::string box_entry(const coco::Result& r) {
  const auto& box = *r.bbox;
  return entry_head(r)
      .add_raw("bbox", fmt::format("[{}, {}, {}, {}]", json_number(box[0]), json_number(box[1]),
                                   json_number(box[2]), json_number(box[3])))
      .str();
}

std::string mask_entry(const coco::Result& r) {
  const coco::Segmentation& s = r.segmentation;
  return entry_head(r)
      .add_raw("segmentation", fmt::format(R"({{"size": [{}, {}], "counts": "{}"}})", s.rle.height,
                                           s.rle.width, json_escape(s.undecoded_counts)))
      .str();
}

void ResultsFile::add(const std::string& entry) {
  file_.write(empty_ ? "[\n" : ",\n");
  file_.write(entry);
  empty_ = false;
}

void ResultsFile::finish() {
  file_.write(empty_ ? "[]\n" : "\n]\n");
  file_.commit();
}

ResultsWriter::ResultsWriter(const std::string& output_dir) {
  if (output_dir.empty()) return;
  create_directories(output_dir);
  boxes_ = std::make_unique<ResultsFile>(join_path(output_dir, "bbox.json"));
  masks_ = std::make_unique<ResultsFile>(join_path(output_dir, "mask.json"));
}

void ResultsWriter::add(const std::vector<coco::Result>& image_results) {
  for (const coco::Result& r : image_results) {
    if (boxes_) {
      boxes_->add(box_entry(r));
      masks_->add(mask_entry(r));
    }
    results_.push_back(r);
  }
}

void ResultsWriter::finish() {
  if (!boxes_) return;
  boxes_->finish();
  masks_->finish();
}

std::vector<coco::Result> ResultsWriter::box_results() const {
  std::vector<coco::Result> out = results_;
  for (coco::Result& r : out) r.segmentation = {};  // bbox.json holds boxes only
  return out;
}

std::vector<coco::Result> ResultsWriter::mask_results() const {
  std::vector<coco::Result> out = results_;
  for (coco::Result& r : out) r.bbox.reset();  // mask.json holds masks only
  return out;
}

}  // namespace mrcnn::evaluation
