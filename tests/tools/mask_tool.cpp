// Test helper: runs our mask code over every annotation of a COCO file and writes what the
// reference tests compare with pycocotools.
//   mask_tool GT.json OUT.json BITMAPS.bin
// OUT.json: {"masks": [{"counts", "area", "bbox", "roundtrip"} per annotation],
//            "iou": [[...]], "box_iou": [[...]], "union": "...", "intersection": "..."}
// where the IoUs are all annotations against all (crowd flags from the file) and the merges
// cover all annotations; BITMAPS.bin holds each decoded mask, row-major, one byte a pixel.
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/json_writer.h"

using namespace mrcnn;

namespace {

std::string matrix(const std::vector<double>& values, std::size_t rows, std::size_t cols) {
  std::string out = "[";
  for (std::size_t r = 0; r < rows; ++r) {
    out += r ? ",[" : "[";
    for (std::size_t c = 0; c < cols; ++c) {
      if (c) out += ',';
      out += json_number(values[r * cols + c]);
    }
    out += "]";
  }
  return out + "]";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: mask_tool GT.json OUT.json BITMAPS.bin\n";
    return 2;
  }
  try {
    const coco::Dataset dataset = coco::load_dataset(argv[1]);
    std::vector<coco::Rle> rles;
    std::vector<std::array<double, 4>> boxes;
    std::vector<uint8_t> crowd;
    std::ofstream bitmaps(argv[3], std::ios::binary);
    std::string masks = "[";
    for (const auto& ann : dataset.annotations) {
      coco::Rle rle = dataset.annotation_rle(ann);
      const std::string counts = coco::rle_to_string(rle);
      const coco::Rle back = coco::rle_from_string(counts, rle.height, rle.width);
      std::vector<uint8_t> bitmap(std::size_t(rle.height) * rle.width);
      coco::rle_decode_row_major(rle, bitmap.data());
      bitmaps.write(reinterpret_cast<const char*>(bitmap.data()), std::streamsize(bitmap.size()));
      const bool roundtrip =
          back == rle && coco::rle_encode_row_major(bitmap.data(), rle.height, rle.width) == rle;
      const auto bbox = coco::rle_to_bbox(rle);
      masks += fmt::format(
          "{}{{\"counts\": \"{}\", \"area\": {}, \"bbox\": [{}, {}, {}, {}], \"roundtrip\": {}}}",
          rles.empty() ? "" : ",", json_escape(counts), coco::rle_area(rle), bbox[0], bbox[1],
          bbox[2], bbox[3], roundtrip ? "true" : "false");
      rles.push_back(std::move(rle));
      boxes.push_back(ann.bbox);
      crowd.push_back(ann.iscrowd);
    }
    masks += "]";
    const std::size_t n = rles.size();
    std::vector<double> iou(n * n), box_iou(n * n);
    coco::rle_iou(rles, rles, crowd, iou.data());
    coco::box_iou(boxes, boxes, crowd, box_iou.data());
    std::ofstream out(argv[2]);
    out << "{\"masks\": " << masks << ", \"iou\": " << matrix(iou, n, n)
        << ", \"box_iou\": " << matrix(box_iou, n, n) << ", \"union\": \""
        << json_escape(coco::rle_to_string(coco::rle_merge(rles, false))) << "\""
        << ", \"intersection\": \"" << json_escape(coco::rle_to_string(coco::rle_merge(rles, true)))
        << "\"}\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
