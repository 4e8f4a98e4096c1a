// Run-length encoded binary masks in COCO's layout: pixels in column-major (Fortran) order,
// counts alternate between runs of 0s and 1s starting with 0s. Every function here gives
// exactly the result of the COCO API (pycocotools' maskApi), which is how COCO's own
// annotations and every published COCO score were made.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mrcnn::coco {

struct Rle {
  uint32_t height = 0;
  uint32_t width = 0;
  std::vector<uint32_t> counts;

  bool operator==(const Rle&) const = default;
};

// From a column-major mask of height*width bytes (non-zero is foreground).
Rle rle_encode_column_major(const uint8_t* mask, uint32_t height, uint32_t width);
// From a row-major (C order, as images are stored) mask.
Rle rle_encode_row_major(const uint8_t* mask, uint32_t height, uint32_t width);
// A height x width mask that is zero except for a row-major region of region_height x
// region_width bytes at (x0, y0): the same result as encoding the whole image, in time
// proportional to the region.
Rle rle_encode_region(const uint8_t* region, uint32_t region_height, uint32_t region_width,
                      uint32_t x0, uint32_t y0, uint32_t height, uint32_t width);
// Into a column-major 0/1 mask of height*width bytes.
void rle_decode_column_major(const Rle& rle, uint8_t* mask);
void rle_decode_row_major(const Rle& rle, uint8_t* mask);

// COCO's compressed string form of the counts (the "counts" of a compressed RLE in json).
std::string rle_to_string(const Rle& rle);
// Inverse of rle_to_string. Throws mrcnn::Error when the string is malformed or its counts
// do not add up to height*width.
Rle rle_from_string(std::string_view text, uint32_t height, uint32_t width);
// Checks that counts add up to height*width; throws mrcnn::Error otherwise.
void rle_check(const Rle& rle);

uint64_t rle_area(const Rle& rle);
// [x, y, width, height] of the tight box around the foreground; zeros for an empty mask.
std::array<double, 4> rle_to_bbox(const Rle& rle);

// Union (intersect=false) or intersection of masks of one size.
Rle rle_merge(std::span<const Rle> rles, bool intersect);

// One polygon [x0, y0, x1, y1, ...] rasterised exactly as COCO's frPoly does.
Rle rle_from_polygon(std::span<const double> xy, uint32_t height, uint32_t width);
// Several polygons of one object: their union.
Rle rle_from_polygons(const std::vector<std::vector<double>>& polygons, uint32_t height,
                      uint32_t width);
// A filled [x, y, w, h] box, as COCO's frBbox (through its 4-corner polygon).
Rle rle_from_bbox(const std::array<double, 4>& box, uint32_t height, uint32_t width);

// IoU between every detection and every ground-truth mask, written to out[d * gt.size() + g].
// For a crowd ground truth the union is the detection's area (COCO's crowd rule). Pairs of
// different sizes get -1.
void rle_iou(std::span<const Rle> detections, std::span<const Rle> ground_truths,
             std::span<const uint8_t> is_crowd, double* out);
// The same over pointers, with each mask's rle_to_bbox box given (evaluation computes those
// once per mask instead of once per pair of lists).
void rle_iou(std::span<const Rle* const> detections,
             std::span<const std::array<double, 4>> detection_boxes,
             std::span<const Rle* const> ground_truths,
             std::span<const std::array<double, 4>> ground_truth_boxes,
             std::span<const uint8_t> is_crowd, double* out);

// The same for [x, y, w, h] boxes.
void box_iou(std::span<const std::array<double, 4>> detections,
             std::span<const std::array<double, 4>> ground_truths,
             std::span<const uint8_t> is_crowd, double* out);

}  // namespace mrcnn::coco
