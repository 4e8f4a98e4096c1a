// Reading COCO results files the way pycocotools' COCO.loadRes does.
#include <cmath>
#include <optional>

#include "mrcnn/coco/results.h"
#include "mrcnn/coco/segmentation_json.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/json_reader.h"
#include "mrcnn/common/parallel.h"

namespace mrcnn::coco {
namespace {

using mrcnn::checked;
namespace od = simdjson::ondemand;

std::vector<Result> read_raw(const simdjson::padded_string& text, const std::string& name) {
  JsonReader reader(name, text);
  od::parser parser;
  od::document doc;
  if (const auto error = parser.iterate(text).get(doc); error != simdjson::SUCCESS) {
    reader.fail("", std::string("invalid JSON (") + simdjson::error_message(error) + ")");
  }
  reader.set_document(&doc);
  od::array array;
  if (const auto error = doc.get_array().get(array); error == simdjson::INCORRECT_TYPE) {
    reader.fail("", "a results file must be a JSON list of detections");
  } else if (error != simdjson::SUCCESS) {
    reader.fail("", "", error, doc);
  }
  std::vector<Result> out;
  for (auto element : array) {
    const std::string where = "results[" + std::to_string(out.size()) + "]";
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    Result r;
    bool has_image = false, has_category = false, has_score = false;
    for (auto field : object) {
      od::field f = checked(std::move(field), reader, where, doc);
      const std::string_view key = checked(f.unescaped_key(), reader, where, doc);
      if (key == "image_id") {
        r.image_id = reader.integer(f.value(), where, key);
        has_image = true;
      } else if (key == "category_id") {
        r.category_id = reader.integer(f.value(), where, key);
        has_category = true;
      } else if (key == "score") {
        r.score = reader.number(f.value(), where, key);
        has_score = true;
      } else if (key == "bbox") {
        const std::vector<double> box = reader.numbers(f.value(), where, key);
        if (box.size() == 4) {
          r.bbox = std::array<double, 4>{box[0], box[1], box[2], box[3]};
        } else if (!box.empty()) {
          reader.fail(where, "'bbox' must be [x, y, width, height]");
        }
      } else if (key == "segmentation") {
        // Compressed masks are decoded later, in parallel.
        detail::parse_segmentation(f.value(), reader, doc, where, r.segmentation, false);
      }
    }
    if (!has_image) reader.fail(where, "missing 'image_id'");
    if (!has_category) reader.fail(where, "missing 'category_id'");
    if (!has_score) reader.fail(where, "missing 'score'");
    if (!r.bbox && r.segmentation.kind == Segmentation::Kind::kNone) {
      reader.fail(where, "needs a 'bbox' or a 'segmentation'");
    }
    out.push_back(std::move(r));
  }
  if (has_trailing_content(doc)) reader.fail("", "unexpected content after the results list");
  return out;
}

std::vector<Detection> detections_of(std::vector<Result> raw, const std::string& name,
                                     const Dataset& gt, IouType type) {
  std::vector<Detection> out(raw.size());
  if (raw.empty()) return out;
  // loadRes decides from the first result: with a box, areas are box areas and masks (when
  // missing) are the boxes; otherwise areas and boxes come from the masks.
  const bool box_results = raw.front().bbox.has_value();
  // Each result is independent: decode masks and derive areas and boxes in parallel.
  parallel_for(raw.size(), 0, 512, [&](std::size_t i) {
    Result& r = raw[i];
    const ErrorLocation where{.file = name, .record = "results[" + std::to_string(i) + "]"};
    const int64_t image_index = gt.image_index(r.image_id);
    if (image_index < 0) {
      throw Error(where,
                  "image id " + std::to_string(r.image_id) +
                      " is not in the ground truth (results do not correspond to this dataset)");
    }
    const Image& image = gt.images[image_index];
    Detection& d = out[i];
    d.id = static_cast<int64_t>(i) + 1;
    d.image_id = r.image_id;
    d.category_id = r.category_id;
    d.score = r.score;
    const bool has_mask = r.segmentation.kind != Segmentation::Kind::kNone;
    Rle rle;
    if (r.segmentation.kind == Segmentation::Kind::kPolygons) {
      rle = rle_from_polygons(r.segmentation.polygons, image.height, image.width);
    } else if (!r.segmentation.undecoded_counts.empty()) {
      try {
        rle = rle_from_string(r.segmentation.undecoded_counts, r.segmentation.rle.height,
                              r.segmentation.rle.width);
      } catch (const Error& e) {
        throw Error(where, "bad RLE segmentation: " + e.message());
      }
    } else if (has_mask) {
      rle = std::move(r.segmentation.rle);
    }
    if (box_results) {
      if (!r.bbox) throw Error(where, "missing 'bbox' (the first result has one, so all need one)");
      d.bbox = *r.bbox;
      d.area = d.bbox[2] * d.bbox[3];
      if (type == IouType::kSegm) {
        d.rle = has_mask ? std::move(rle) : rle_from_bbox(d.bbox, image.height, image.width);
        d.mask_box = rle_to_bbox(d.rle);
      }
    } else {
      if (!has_mask)
        throw Error(where,
                    "missing 'segmentation' (the first result has no box, so all need a mask)");
      d.area = double(rle_area(rle));
      d.mask_box = rle_to_bbox(rle);
      d.bbox = r.bbox ? *r.bbox : d.mask_box;
      if (type == IouType::kSegm) d.rle = std::move(rle);
    }
  });
  return out;
}

}  // namespace

IouType parse_iou_type(const std::string& name) {
  if (name == "bbox") return IouType::kBbox;
  if (name == "segm") return IouType::kSegm;
  throw Error("unknown evaluation type '" + name + "' (expected bbox or segm)");
}

const char* iou_type_name(IouType type) { return type == IouType::kBbox ? "bbox" : "segm"; }

std::vector<Detection> parse_results(std::string_view json, const std::string& name,
                                     const Dataset& ground_truth, IouType type) {
  return detections_of(read_raw(simdjson::padded_string(without_byte_order_mark(json)), name), name,
                       ground_truth, type);
}

std::vector<Detection> make_detections(std::vector<Result> results, const std::string& name,
                                       const Dataset& ground_truth, IouType type) {
  return detections_of(std::move(results), name, ground_truth, type);
}

std::vector<Detection> load_results(const std::string& path, const Dataset& ground_truth,
                                    IouType type) {
  return detections_of(read_raw(read_json_file(path), path), path, ground_truth, type);
}

}  // namespace mrcnn::coco
