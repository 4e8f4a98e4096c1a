#include "mrcnn/data/coco.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "mrcnn/common/error.h"
#include "mrcnn/data/coco_json.h"

namespace mrcnn::data {
namespace {

using detail::checked;
using io::JsonReader;
namespace od = simdjson::ondemand;

std::string indexed(const char* list, std::size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

void parse_images(od::value value, const JsonReader& reader, od::document& doc, CocoDataset& out) {
  od::array array = checked(value.get_array(), reader, "images", doc);
  for (auto element : array) {
    const std::string where = indexed("images", out.images.size());
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    CocoImage image;
    bool has_id = false, has_width = false, has_height = false, has_name = false;
    for (auto field : object) {
      od::field f = checked(std::move(field), reader, where, doc);
      const std::string_view key = checked(f.unescaped_key(), reader, where, doc);
      if (key == "id") {
        image.id = reader.integer(f.value(), where, key);
        has_id = true;
      } else if (key == "width" || key == "height") {
        const int64_t size = reader.integer(f.value(), where, key);
        if (size <= 0 || size > 1 << 20)
          reader.fail(where, "'" + std::string(key) + "' must be a positive pixel count");
        (key == "width" ? image.width : image.height) = static_cast<uint32_t>(size);
        (key == "width" ? has_width : has_height) = true;
      } else if (key == "file_name") {
        image.file_name = std::string(reader.string(f.value(), where, key));
        has_name = true;
      }
    }
    const std::string record =
        has_id ? "image id " + std::to_string(image.id) + " (" + where + ")" : where;
    if (!has_id) reader.fail(record, "missing 'id'");
    if (!has_width) reader.fail(record, "missing 'width'");
    if (!has_height) reader.fail(record, "missing 'height'");
    // COCO's RLE counts are 32-bit: a mask may hold at most 2^32 - 1 pixels.
    if (uint64_t(image.width) * image.height > UINT32_MAX)
      reader.fail(record, "image too large for COCO masks");
    if (!has_name) reader.fail(record, "missing 'file_name'");
    out.images.push_back(std::move(image));
  }
}

void parse_categories(od::value value, const JsonReader& reader, od::document& doc,
                      CocoDataset& out) {
  od::array array = checked(value.get_array(), reader, "categories", doc);
  for (auto element : array) {
    const std::string where = indexed("categories", out.categories.size());
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    CocoCategory category;
    bool has_id = false, has_name = false;
    for (auto field : object) {
      od::field f = checked(std::move(field), reader, where, doc);
      const std::string_view key = checked(f.unescaped_key(), reader, where, doc);
      if (key == "id") {
        category.id = reader.integer(f.value(), where, key);
        has_id = true;
      } else if (key == "name") {
        category.name = std::string(reader.string(f.value(), where, key));
        has_name = true;
      } else if (key == "supercategory") {
        category.supercategory = std::string(reader.string(f.value(), where, key));
      }
    }
    if (!has_id) reader.fail(where, "missing 'id'");
    if (!has_name) reader.fail("category id " + std::to_string(category.id), "missing 'name'");
    out.categories.push_back(std::move(category));
  }
}

void parse_annotations(od::value value, const JsonReader& reader, od::document& doc,
                       CocoDataset& out) {
  od::array array = checked(value.get_array(), reader, "annotations", doc);
  for (auto element : array) {
    const std::string where = indexed("annotations", out.annotations.size());
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    CocoAnnotation ann;
    bool has_id = false, has_image = false, has_category = false, has_bbox = false,
         has_area = false;
    for (auto field : object) {
      od::field f = checked(std::move(field), reader, where, doc);
      const std::string_view key = checked(f.unescaped_key(), reader, where, doc);
      if (key == "id") {
        ann.id = reader.integer(f.value(), where, key);
        has_id = true;
      } else if (key == "image_id") {
        ann.image_id = reader.integer(f.value(), where, key);
        has_image = true;
      } else if (key == "category_id") {
        ann.category_id = reader.integer(f.value(), where, key);
        has_category = true;
      } else if (key == "bbox") {
        const std::vector<double> box = reader.numbers(f.value(), where, key);
        if (box.size() != 4) reader.fail(where, "'bbox' must be [x, y, width, height]");
        std::copy(box.begin(), box.end(), ann.bbox.begin());
        has_bbox = true;
      } else if (key == "area") {
        ann.area = reader.number(f.value(), where, key);
        has_area = true;
      } else if (key == "iscrowd") {
        ann.iscrowd = reader.boolean_or_int(f.value(), where, key);
      } else if (key == "segmentation") {
        detail::parse_segmentation(f.value(), reader, doc, where, ann.segmentation);
      }
    }
    const std::string record =
        has_id ? "annotation id " + std::to_string(ann.id) + " (" + where + ")" : where;
    if (!has_id) reader.fail(record, "missing 'id'");
    if (!has_image) reader.fail(record, "missing 'image_id'");
    if (!has_category) reader.fail(record, "missing 'category_id'");
    if (!has_bbox) reader.fail(record, "missing 'bbox'");
    ann.area_given = has_area;
    out.annotations.push_back(std::move(ann));
  }
}

template <class Item>
void index_unique(const std::vector<Item>& items, std::unordered_map<int64_t, int64_t>& index,
                  const std::string& file, const char* what) {
  index.clear();
  index.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto [it, inserted] = index.emplace(items[i].id, static_cast<int64_t>(i));
    if (!inserted) {
      throw Error(ErrorLocation{.file = file,
                                .record = std::string(what) + " id " + std::to_string(items[i].id)},
                  "duplicate id (entries #" + std::to_string(it->second) + " and #" +
                      std::to_string(i) + ")");
    }
  }
}

void check_annotations(CocoDataset& dataset) {
  std::unordered_map<int64_t, int64_t> annotation_ids;
  index_unique(dataset.annotations, annotation_ids, dataset.path, "annotation");
  for (auto& ann : dataset.annotations) {
    const ErrorLocation where{.file = dataset.path,
                              .record = "annotation id " + std::to_string(ann.id)};
    const int64_t image = dataset.image_index(ann.image_id);
    if (image < 0) throw Error(where, "refers to unknown image id " + std::to_string(ann.image_id));
    if (dataset.category_index(ann.category_id) < 0) {
      throw Error(where, "refers to unknown category id " + std::to_string(ann.category_id));
    }
    const CocoImage& img = dataset.images[image];
    const auto kind = ann.segmentation.kind;
    if ((kind == Segmentation::Kind::kRle || kind == Segmentation::Kind::kUncompressedRle) &&
        (ann.segmentation.rle.height != img.height || ann.segmentation.rle.width != img.width)) {
      throw Error(where, "RLE size " + std::to_string(ann.segmentation.rle.height) + "x" +
                             std::to_string(ann.segmentation.rle.width) +
                             " differs from image id " + std::to_string(img.id) + "'s " +
                             std::to_string(img.height) + "x" + std::to_string(img.width) +
                             " (height x width)");
    }
    if (!ann.area_given) {
      // No "area" in the file: the mask's area when there is one, else the box's.
      ann.area = kind == Segmentation::Kind::kNone
                     ? ann.bbox[2] * ann.bbox[3]
                     : double(structures::rle_area(dataset.annotation_rle(ann)));
    }
  }
}

}  // namespace

namespace detail {
using io::JsonReader;

// {"size": [h, w], "counts": "..." | [...]}
static void parse_rle(od::object object, const JsonReader& reader, od::document& doc,
                      const std::string& where, Segmentation& segmentation,
                      bool decode_compressed) {
  std::optional<std::vector<double>> size;
  std::optional<std::string> compressed;
  std::optional<std::vector<uint32_t>> counts;
  for (auto field : object) {
    od::field f = checked(std::move(field), reader, where, doc);
    const std::string_view key = checked(f.unescaped_key(), reader, where, doc);
    if (key == "size") {
      size = reader.numbers(f.value(), where, "segmentation.size");
    } else if (key == "counts") {
      od::value value = f.value();
      od::json_type type = checked(value.type(), reader, where, doc);
      if (type == od::json_type::string) {
        compressed = std::string(reader.string(value, where, "segmentation.counts"));
      } else {
        counts.emplace();
        for (double c : reader.numbers(value, where, "segmentation.counts")) {
          if (c < 0 || c != std::floor(c) || c > 4294967295.0) {
            reader.fail(where, "'segmentation.counts' must hold non-negative integers");
          }
          counts->push_back(static_cast<uint32_t>(c));
        }
      }
    }
  }
  if (!size || size->size() != 2)
    reader.fail(where, "RLE segmentation needs 'size': [height, width]");
  if (!compressed && !counts) reader.fail(where, "RLE segmentation needs 'counts'");
  for (double s : *size) {
    if (s < 0 || s != std::floor(s) || s > (1 << 20))
      reader.fail(where, "'segmentation.size' must be pixel counts");
  }
  const auto h = static_cast<uint32_t>((*size)[0]);
  const auto w = static_cast<uint32_t>((*size)[1]);
  if (uint64_t(h) * w > UINT32_MAX)
    reader.fail(where, "'segmentation.size' too large for COCO masks");
  try {
    if (compressed) {
      segmentation.kind = Segmentation::Kind::kRle;
      if (decode_compressed) {
        segmentation.rle = structures::rle_from_string(*compressed, h, w);
      } else {
        segmentation.rle = structures::Rle{h, w, {}};
        segmentation.undecoded_counts = std::move(*compressed);
      }
    } else {
      segmentation.kind = Segmentation::Kind::kUncompressedRle;
      segmentation.rle = structures::Rle{h, w, std::move(*counts)};
      structures::rle_check(segmentation.rle);
    }
  } catch (const Error& e) {
    reader.fail(where, "bad RLE segmentation: " + e.message());
  }
}

void parse_segmentation(od::value value, const JsonReader& reader, od::document& doc,
                        const std::string& where, Segmentation& segmentation,
                        bool decode_compressed) {
  const od::json_type type = checked(value.type(), reader, where, doc);
  if (type == od::json_type::object) {
    parse_rle(checked(value.get_object(), reader, where, doc), reader, doc, where, segmentation,
              decode_compressed);
    return;
  }
  if (type != od::json_type::array) {
    reader.fail(where, "'segmentation' must be a list of polygons or an RLE object");
  }
  segmentation.kind = Segmentation::Kind::kPolygons;
  od::array polygons = checked(value.get_array(), reader, where, doc);
  for (auto element : polygons) {
    od::value polygon = checked(std::move(element), reader, where, doc);
    std::vector<double> xy = reader.numbers(polygon, where, "segmentation");
    if (xy.size() % 2 != 0) {
      reader.fail(where, "polygon #" + std::to_string(segmentation.polygons.size()) +
                             " has an odd number (" + std::to_string(xy.size()) +
                             ") of coordinates");
    }
    if (xy.size() < 6) {
      reader.fail(where, "polygon #" + std::to_string(segmentation.polygons.size()) + " has " +
                             std::to_string(xy.size() / 2) + " points; at least 3 are needed");
    }
    // Far beyond any image; such values would only overflow the rasteriser's integers.
    for (double v : xy) {
      if (std::fabs(v) > 1e7)
        reader.fail(where, "polygon coordinate " + std::to_string(v) + " is out of range");
    }
    segmentation.polygons.push_back(std::move(xy));
  }
}

}  // namespace detail

int64_t CocoDataset::image_index(int64_t image_id) const {
  const auto it = image_by_id_.find(image_id);
  return it == image_by_id_.end() ? -1 : it->second;
}

int64_t CocoDataset::category_index(int64_t category_id) const {
  const auto it = category_by_id_.find(category_id);
  return it == category_by_id_.end() ? -1 : it->second;
}

int64_t CocoDataset::label_of(int64_t category_id) const {
  const auto it =
      std::lower_bound(sorted_category_ids_.begin(), sorted_category_ids_.end(), category_id);
  if (it == sorted_category_ids_.end() || *it != category_id) return -1;
  return (it - sorted_category_ids_.begin()) + 1;
}

int64_t CocoDataset::category_of(int64_t label) const {
  if (label < 1 || label > static_cast<int64_t>(sorted_category_ids_.size())) return -1;
  return sorted_category_ids_[label - 1];
}

std::vector<int64_t> CocoDataset::sorted_category_ids() const { return sorted_category_ids_; }

structures::Rle CocoDataset::annotation_rle(const CocoAnnotation& annotation) const {
  const CocoImage& image = images.at(image_index(annotation.image_id));
  switch (annotation.segmentation.kind) {
    case Segmentation::Kind::kPolygons:
      return structures::rle_from_polygons(annotation.segmentation.polygons, image.height,
                                           image.width);
    case Segmentation::Kind::kRle:
    case Segmentation::Kind::kUncompressedRle:
      return annotation.segmentation.rle;
    case Segmentation::Kind::kNone:
      break;
  }
  return structures::Rle{image.height, image.width, {image.height * image.width}};
}

void CocoDataset::build_index() {
  index_unique(images, image_by_id_, path, "image");
  index_unique(categories, category_by_id_, path, "category");
  sorted_category_ids_.clear();
  for (const auto& c : categories) sorted_category_ids_.push_back(c.id);
  std::sort(sorted_category_ids_.begin(), sorted_category_ids_.end());
}

namespace {
CocoDataset parse_padded(const simdjson::padded_string& text, const std::string& name) {
  CocoDataset dataset;
  dataset.path = name;
  JsonReader reader(name, text);
  od::parser parser;
  od::document doc;
  if (const auto error = parser.iterate(text).get(doc); error != simdjson::SUCCESS) {
    reader.fail("", std::string("invalid JSON (") + simdjson::error_message(error) + ")");
  }
  reader.set_document(&doc);
  od::object root;
  if (const auto error = doc.get_object().get(root); error == simdjson::INCORRECT_TYPE) {
    reader.fail("", "the top level must be a JSON object");
  } else if (error != simdjson::SUCCESS) {
    reader.fail("", "", error, doc);
  }
  bool has_images = false, has_categories = false;
  for (auto field : root) {
    od::field f = checked(std::move(field), reader, "", doc);
    const std::string_view key = checked(f.unescaped_key(), reader, "", doc);
    if (key == "images") {
      parse_images(f.value(), reader, doc, dataset);
      has_images = true;
    } else if (key == "categories") {
      parse_categories(f.value(), reader, doc, dataset);
      has_categories = true;
    } else if (key == "annotations") {
      parse_annotations(f.value(), reader, doc, dataset);
    }
  }
  // On-demand parsing only checks what it visits; make sure nothing trails the object.
  if (io::has_trailing_content(doc))
    reader.fail("", "unexpected content after the top-level object");
  if (!has_images) reader.fail("", "missing top-level 'images'");
  if (!has_categories) reader.fail("", "missing top-level 'categories'");
  dataset.build_index();
  check_annotations(dataset);
  return dataset;
}
}  // namespace

CocoDataset load_coco(const std::string& path) {
  return parse_padded(io::read_json_file(path), path);
}

CocoDataset parse_coco(std::string_view json, const std::string& name) {
  return parse_padded(simdjson::padded_string(json), name);
}

std::string TrainingViewReport::summary() const {
  return std::to_string(images_total) + " images: " + std::to_string(images_without_annotations) +
         " without usable annotations, " + std::to_string(boxes_clipped) +
         " boxes clipped to the image, " + std::to_string(boxes_dropped_degenerate) +
         " degenerate boxes dropped, " + std::to_string(annotations_dropped_without_mask) +
         " annotations without a mask dropped";
}

std::vector<TrainingRecord> training_view(const CocoDataset& dataset, bool require_masks,
                                          bool keep_empty_images, TrainingViewReport* report) {
  TrainingViewReport counts;
  counts.images_total = static_cast<int64_t>(dataset.images.size());
  std::vector<TrainingRecord> records(dataset.images.size());
  for (std::size_t i = 0; i < records.size(); ++i) records[i].image_index = static_cast<int64_t>(i);

  for (std::size_t a = 0; a < dataset.annotations.size(); ++a) {
    const CocoAnnotation& ann = dataset.annotations[a];
    const int64_t image_index = dataset.image_index(ann.image_id);
    const CocoImage& image = dataset.images[image_index];
    const auto kind = ann.segmentation.kind;
    const bool no_mask =
        kind == Segmentation::Kind::kNone ||
        (kind == Segmentation::Kind::kPolygons && ann.segmentation.polygons.empty());
    if (require_masks && no_mask && !ann.iscrowd) {
      ++counts.annotations_dropped_without_mask;
      continue;
    }
    const auto& b = ann.bbox;
    const double x1 = std::clamp(b[0], 0.0, double(image.width));
    const double y1 = std::clamp(b[1], 0.0, double(image.height));
    const double x2 = std::clamp(b[0] + std::max(b[2], 0.0), 0.0, double(image.width));
    const double y2 = std::clamp(b[1] + std::max(b[3], 0.0), 0.0, double(image.height));
    // Boxes thinner than a thousandth of a pixel carry no signal and make the box
    // regression targets (log of the width ratio) blow up.
    if (x2 - x1 < 1e-3 || y2 - y1 < 1e-3) {
      ++counts.boxes_dropped_degenerate;
      continue;
    }
    if (x1 != b[0] || y1 != b[1] || x2 != b[0] + b[2] || y2 != b[1] + b[3]) ++counts.boxes_clipped;
    records[image_index].annotation_indices.push_back(static_cast<int64_t>(a));
    records[image_index].boxes_xyxy.push_back({x1, y1, x2, y2});
  }

  std::vector<TrainingRecord> kept;
  kept.reserve(records.size());
  for (auto& record : records) {
    const bool has_positive =
        std::any_of(record.annotation_indices.begin(), record.annotation_indices.end(),
                    [&](int64_t a) { return !dataset.annotations[a].iscrowd; });
    if (!has_positive) {
      ++counts.images_without_annotations;
      if (!keep_empty_images) continue;
    }
    kept.push_back(std::move(record));
  }
  if (report != nullptr) *report = counts;
  return kept;
}

}  // namespace mrcnn::data
