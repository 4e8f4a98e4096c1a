// COCO instances annotations (instances_*.json) in memory, read with simdjson.
//
// The loader keeps the file's content as it is (evaluation must see exactly what pycocotools
// sees) and rejects what is malformed, naming the file and the record. What training does
// with odd but valid records is a separate, documented policy: see training_view.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mrcnn/coco/rle.h"

namespace mrcnn::coco {

struct Image {
  int64_t id = 0;
  std::string file_name;
  uint32_t width = 0;
  uint32_t height = 0;
};

struct Category {
  int64_t id = 0;
  std::string name;
  std::string supercategory;
};

struct Segmentation {
  enum class Kind : uint8_t {
    kNone,            // no "segmentation" key (detection-only data)
    kPolygons,        // list of [x0, y0, x1, y1, ...]; may be an empty list
    kRle,             // compressed RLE {"size": [h, w], "counts": "..."}
    kUncompressedRle  // {"size": [h, w], "counts": [n0, n1, ...]}
  };
  Kind kind = Kind::kNone;
  std::vector<std::vector<double>> polygons;
  Rle rle;  // for both RLE kinds, decoded
  // A compressed RLE read with decoding left to the caller (results files decode in
  // parallel); rle then holds only the size.
  std::string undecoded_counts;
};

struct Annotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  std::array<double, 4> bbox{};  // x, y, width, height
  double area = 0;
  bool area_given = true;  // false when derived because the file has no "area"
  bool iscrowd = false;
  Segmentation segmentation;
};

class Dataset {
 public:
  std::string path;
  std::vector<Image> images;            // file order
  std::vector<Category> categories;     // file order
  std::vector<Annotation> annotations;  // file order

  // Index of the image / category with this id, or -1.
  int64_t image_index(int64_t image_id) const;
  int64_t category_index(int64_t category_id) const;
  // Category ids in increasing order (COCOeval's category axis).
  const std::vector<int64_t>& sorted_category_ids() const { return sorted_category_ids_; }

  // The mask of an annotation as pycocotools' annToRLE makes it (polygons rasterised at the
  // image's size and merged). Annotations without segmentation give an empty mask.
  Rle annotation_rle(const Annotation& annotation) const;

  void build_index();  // after filling the vectors by hand

 private:
  std::unordered_map<int64_t, int64_t> image_by_id_;
  std::unordered_map<int64_t, int64_t> category_by_id_;
  std::vector<int64_t> sorted_category_ids_;
};

// Reads and validates an instances json. Throws mrcnn::Error naming the file and the record
// (or the byte offset of a syntax error).
Dataset load_dataset(const std::string& path);
// The same from text in memory; `name` is used in messages.
Dataset parse_dataset(std::string_view json, const std::string& name);

}  // namespace mrcnn::coco
