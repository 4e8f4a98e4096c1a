#include "mrcnn/coco/dataset.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "mrcnn/coco/segmentation_json.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/json_reader.h"

namespace mrcnn::coco {
namespace {

using mrcnn::checked;
namespace od = simdjson::ondemand;

std::string indexed(const char* list, std::size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

void parse_images(od::value value, const JsonReader& reader, od::document& doc, Dataset& out) {
  od::array array = checked(value.get_array(), reader, "images", doc);
  for (auto element : array) {
    const std::string where = indexed("images", out.images.size());
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    Image image;
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

void parse_categories(od::value value, const JsonReader& reader, od::document& doc, Dataset& out) {
  od::array array = checked(value.get_array(), reader, "categories", doc);
  for (auto element : array) {
    const std::string where = indexed("categories", out.categories.size());
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    Category category;
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

void parse_annotations(od::value value, const JsonReader& reader, od::document& doc, Dataset& out) {
  od::array array = checked(value.get_array(), reader, "annotations", doc);
  for (auto element : array) {
    const std::string where = indexed("annotations", out.annotations.size());
    od::object object =
        checked(checked(std::move(element), reader, where, doc).get_object(), reader, where, doc);
    Annotation ann;
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

void check_annotations(Dataset& dataset) {
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
    const Image& img = dataset.images[image];
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
      ann.area = kind == Segmentation::Kind::kNone ? ann.bbox[2] * ann.bbox[3]
                                                   : double(rle_area(dataset.annotation_rle(ann)));
    }
  }
}

}  // namespace

namespace detail {

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
        segmentation.rle = rle_from_string(*compressed, h, w);
      } else {
        segmentation.rle = Rle{h, w, {}};
        segmentation.undecoded_counts = std::move(*compressed);
      }
    } else {
      segmentation.kind = Segmentation::Kind::kUncompressedRle;
      segmentation.rle = Rle{h, w, std::move(*counts)};
      rle_check(segmentation.rle);
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

int64_t Dataset::image_index(int64_t image_id) const {
  const auto it = image_by_id_.find(image_id);
  return it == image_by_id_.end() ? -1 : it->second;
}

int64_t Dataset::category_index(int64_t category_id) const {
  const auto it = category_by_id_.find(category_id);
  return it == category_by_id_.end() ? -1 : it->second;
}

Rle Dataset::annotation_rle(const Annotation& annotation) const {
  const Image& image = images.at(image_index(annotation.image_id));
  switch (annotation.segmentation.kind) {
    case Segmentation::Kind::kPolygons:
      return rle_from_polygons(annotation.segmentation.polygons, image.height, image.width);
    case Segmentation::Kind::kRle:
    case Segmentation::Kind::kUncompressedRle:
      return annotation.segmentation.rle;
    case Segmentation::Kind::kNone:
      break;
  }
  return Rle{image.height, image.width, {image.height * image.width}};
}

void Dataset::build_index() {
  index_unique(images, image_by_id_, path, "image");
  index_unique(categories, category_by_id_, path, "category");
  sorted_category_ids_.clear();
  for (const auto& c : categories) sorted_category_ids_.push_back(c.id);
  std::sort(sorted_category_ids_.begin(), sorted_category_ids_.end());
}

namespace {
Dataset parse_padded(const simdjson::padded_string& text, const std::string& name) {
  Dataset dataset;
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
  if (has_trailing_content(doc)) reader.fail("", "unexpected content after the top-level object");
  if (!has_images) reader.fail("", "missing top-level 'images'");
  if (!has_categories) reader.fail("", "missing top-level 'categories'");
  dataset.build_index();
  check_annotations(dataset);
  return dataset;
}
}  // namespace

Dataset load_dataset(const std::string& path) { return parse_padded(read_json_file(path), path); }

Dataset parse_dataset(std::string_view json, const std::string& name) {
  return parse_padded(simdjson::padded_string(without_byte_order_mark(json)), name);
}

}  // namespace mrcnn::coco
