// COCO instances annotations (instances_*.json) in memory, read with simdjson.
//
// The loader keeps the file's content as it is (evaluation must see exactly what pycocotools
// sees) and rejects what is malformed, naming the file and the record. What training does
// with odd but valid records (boxes outside the image, empty masks, images without objects)
// is a separate, documented policy: see training_view() below.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "mrcnn/structures/rle.h"

namespace mrcnn::data {

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  uint32_t width = 0;
  uint32_t height = 0;
};

struct CocoCategory {
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
  structures::Rle rle;  // for both RLE kinds, decoded
  // A compressed RLE read with decoding left to the caller (results files decode in
  // parallel); rle then holds only the size.
  std::string undecoded_counts;
};

struct CocoAnnotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  std::array<double, 4> bbox{};  // x, y, width, height
  double area = 0;
  bool area_given = true;  // false when derived because the file has no "area"
  bool iscrowd = false;
  Segmentation segmentation;
};

class CocoDataset {
 public:
  std::string path;
  std::vector<CocoImage> images;            // file order
  std::vector<CocoCategory> categories;     // file order
  std::vector<CocoAnnotation> annotations;  // file order

  // Index of the image / category with this id, or -1.
  int64_t image_index(int64_t image_id) const;
  int64_t category_index(int64_t category_id) const;

  // Contiguous training labels 1..K for the categories sorted by id (0 is background), as
  // PaddleDetection and detectron2 number them.
  int64_t label_of(int64_t category_id) const;
  int64_t category_of(int64_t label) const;
  std::vector<int64_t> sorted_category_ids() const;

  // The mask of an annotation as pycocotools' annToRLE makes it (polygons rasterised at the
  // image's size and merged). Annotations without segmentation give an empty mask.
  structures::Rle annotation_rle(const CocoAnnotation& annotation) const;

  void build_index();  // after filling the vectors by hand

 private:
  std::unordered_map<int64_t, int64_t> image_by_id_;
  std::unordered_map<int64_t, int64_t> category_by_id_;
  std::vector<int64_t> sorted_category_ids_;
};

// Reads and validates an instances json. Throws mrcnn::Error naming the file and the record
// (or the byte offset of a syntax error).
CocoDataset load_coco(const std::string& path);
// The same from text in memory; `name` is used in messages.
CocoDataset parse_coco(std::string_view json, const std::string& name);

// What training takes from a dataset, after the documented clean-up:
//  - boxes are clipped to the image; boxes thinner than 1e-3 px after clipping (including
//    zero-area and fully out-of-image boxes) are dropped and counted;
//  - crowd annotations are kept, flagged, and never used as positives;
//  - with masks required, annotations without a usable segmentation (none, or an empty
//    polygon list) are dropped and counted;
//  - images left without a non-crowd annotation are counted, and skipped unless
//    keep_empty_images.
struct TrainingRecord {
  int64_t image_index = 0;
  std::vector<int64_t> annotation_indices;
  std::vector<std::array<double, 4>> boxes_xyxy;  // clipped, same order as annotation_indices
};

struct TrainingViewReport {
  int64_t images_total = 0;
  int64_t images_without_annotations = 0;  // skipped unless kept
  int64_t boxes_clipped = 0;
  int64_t boxes_dropped_degenerate = 0;
  int64_t annotations_dropped_without_mask = 0;
  std::string summary() const;
};

std::vector<TrainingRecord> training_view(const CocoDataset& dataset, bool require_masks,
                                          bool keep_empty_images, TrainingViewReport* report);

}  // namespace mrcnn::data
