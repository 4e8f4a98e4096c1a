#include "mrcnn/evaluation/evaluator.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/evaluation/coco_eval_report.h"
#include "mrcnn/io/image.h"
#include "mrcnn/ops/paste_masks.h"

namespace mrcnn::evaluation {

int64_t LabelMapping::category_of(int64_t label) const {
  if (label_is_category_id) return label;
  if (label < 1 || label > static_cast<int64_t>(category_ids.size())) return -1;
  return category_ids[label - 1];
}

ImageDetections detect(modeling::MaskRCNN& model, const at::Tensor& image_rgb,
                       const c10::Device& device, const LabelMapping& labels, double mask_threshold,
                       int64_t image_id) {
  const int64_t height = image_rgb.size(0), width = image_rgb.size(1);
  const at::Tensor input = image_rgb.to(device).permute({2, 0, 1}).to(at::kFloat).div(255);
  const modeling::ImageResult result = model->predict({input})[0];
  const at::Tensor boxes = result.boxes.cpu().to(at::kDouble).contiguous();
  const at::Tensor scores = result.scores.cpu().to(at::kDouble).contiguous();
  const at::Tensor label_ids = result.labels.cpu().contiguous();
  ImageDetections out;
  out.image_id = image_id;
  const int64_t n = boxes.size(0);
  const double* b = boxes.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t category = labels.category_of(label_ids.data_ptr<int64_t>()[i]);
    if (category < 0) continue;
    out.boxes_xywh.push_back(
        {b[4 * i], b[4 * i + 1], b[4 * i + 2] - b[4 * i], b[4 * i + 3] - b[4 * i + 1]});
    out.scores.push_back(scores.data_ptr<double>()[i]);
    out.category_ids.push_back(category);
    // Only the box region of each mask is computed and encoded; no full-size planes.
    const ops::PastedRegion region =
        ops::paste_mask_region(result.masks[i][0], result.boxes[i], height, width);
    const at::Tensor binary = (region.values > mask_threshold).to(at::kByte).cpu().contiguous();
    out.masks.push_back(structures::rle_encode_region(
        binary.data_ptr<uint8_t>(), static_cast<uint32_t>(binary.size(0)),
        static_cast<uint32_t>(binary.size(1)), static_cast<uint32_t>(region.x0),
        static_cast<uint32_t>(region.y0), static_cast<uint32_t>(height),
        static_cast<uint32_t>(width)));
  }
  return out;
}

void append_results_json(const ImageDetections& d, std::string& bbox_json, std::string& mask_json) {
  for (std::size_t i = 0; i < d.scores.size(); ++i) {
    const auto& box = d.boxes_xywh[i];
    const std::string head = fmt::format(R"({{"image_id": {}, "category_id": {}, "score": {}, )",
                                         d.image_id, d.category_ids[i], json_number(d.scores[i]));
    bbox_json += (bbox_json.empty() ? "[\n" : ",\n") + head +
                 fmt::format(R"("bbox": [{}, {}, {}, {}]}})", json_number(box[0]),
                             json_number(box[1]), json_number(box[2]), json_number(box[3]));
    mask_json +=
        (mask_json.empty() ? "[\n" : ",\n") + head +
        fmt::format(R"("segmentation": {{"size": [{}, {}], "counts": "{}"}}}})", d.masks[i].height,
                    d.masks[i].width, json_escape(structures::rle_to_string(d.masks[i])));
  }
}

DatasetEvaluation evaluate_model(modeling::MaskRCNN& model, const data::CocoDataset& dataset,
                                 const std::string& image_dir, const c10::Device& device,
                                 const LabelMapping& labels, double mask_threshold,
                                 const std::string& output_dir,
                                 const std::function<void(int64_t, int64_t, double)>& progress) {
  namespace fs = std::filesystem;
  fs::create_directories(output_dir);
  std::string bbox_json, mask_json;
  const auto start = std::chrono::steady_clock::now();
  const int64_t total = static_cast<int64_t>(dataset.images.size());
  for (int64_t i = 0; i < total; ++i) {
    const data::CocoImage& image = dataset.images[i];
    const std::string path = (fs::path(image_dir) / image.file_name).string();
    const at::Tensor rgb = io::decode_image_file(path);
    if (rgb.size(0) != image.height || rgb.size(1) != image.width) {
      throw Error(ErrorLocation{.file = path, .record = "image id " + std::to_string(image.id)},
                  fmt::format("the file is {}x{} but the annotations say {}x{} (width x height)",
                              rgb.size(1), rgb.size(0), image.width, image.height));
    }
    append_results_json(detect(model, rgb, device, labels, mask_threshold, image.id), bbox_json,
                        mask_json);
    if (progress) {
      progress(i + 1, total,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto finish = [](std::string& json) { json = json.empty() ? "[]\n" : json + "\n]\n"; };
  finish(bbox_json);
  finish(mask_json);
  DatasetEvaluation out;
  out.bbox_json_path = (fs::path(output_dir) / "bbox.json").string();
  out.mask_json_path = (fs::path(output_dir) / "mask.json").string();
  io::write_file_atomically(
      out.bbox_json_path,
      std::span(reinterpret_cast<const uint8_t*>(bbox_json.data()), bbox_json.size()));
  io::write_file_atomically(
      out.mask_json_path,
      std::span(reinterpret_cast<const uint8_t*>(mask_json.data()), mask_json.size()));
  out.images_per_second = total / std::max(seconds, 1e-9);
  out.bbox =
      evaluate(dataset, parse_results(bbox_json, out.bbox_json_path, dataset, IouType::kBbox),
               IouType::kBbox);
  out.segm =
      evaluate(dataset, parse_results(mask_json, out.mask_json_path, dataset, IouType::kSegm),
               IouType::kSegm);
  return out;
}

}  // namespace mrcnn::evaluation
