// The synthetic "shapes" dataset: COCO-layout images of circles, squares and triangles in
// random colours, sizes and overlaps, with exact masks. It is the project's built-in data.
#pragma once

#include <cstdint>
#include <string>

namespace mrcnn::data {

struct ShapesOptions {
  std::string out_dir;
  int64_t train_images = 200;
  int64_t val_images = 50;
  uint64_t seed = 0;
  int64_t width = 320;
  int64_t height = 320;
  // Appended to the split names: "2017" gives COCO 2017's layout (train2017/, val2017/,
  // annotations/instances_train2017.json), so COCO configs run on the set unchanged.
  std::string split_suffix;
};

struct ShapesSummary {
  int64_t images = 0;
  int64_t annotations = 0;
  int64_t crowd_regions = 0;
  int64_t occluded = 0;  // annotated with the RLE of their visible part
  int64_t empty_images = 0;
};

// Writes out_dir/annotations/instances_{train,val}<suffix>.json and
// out_dir/{train,val}<suffix>/*.jpg.
// The same options always give byte-identical files. Masks are exact: an unoccluded object's
// polygon rasterises (COCO's way) to precisely the pixels painted for it; an occluded one is
// annotated with the RLE of its visible pixels; crowd regions (clusters of small objects)
// carry iscrowd=1 and an uncompressed RLE, as in COCO.
ShapesSummary make_shapes(const ShapesOptions& options);

}  // namespace mrcnn::data
