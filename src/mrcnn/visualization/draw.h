// Drawing detections on images: translucent coloured masks, box outlines and "label score"
// captions in a built-in bitmap font (no font files needed), and the ground truth beside the
// predictions.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <string>

#include "mrcnn/coco/rle.h"
#include "mrcnn/structures/instances.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::visualization {

using Colour = std::array<uint8_t, 3>;

// A distinct, stable colour for a category id.
Colour category_colour(int64_t category_id);

// All functions draw into `image`, a contiguous uint8 [H, W, 3] CPU tensor.
void blend_mask(at::Tensor& image, const coco::Rle& mask, Colour colour, double alpha = 0.5);
void draw_box(at::Tensor& image, const std::array<double, 4>& box_xyxy, Colour colour,
              int thickness = 2);
// A one-pixel line between two points (clipped to the image).
void draw_line(at::Tensor& image, double x0, double y0, double x1, double y1, Colour colour);
// Text at (x, y) = top-left, on a filled background, in black or white, whichever reads
// better on it; characters outside [A-Za-z0-9 .,:_%/()=+<>-] are drawn as '?'.
void draw_caption(at::Tensor& image, int64_t x, int64_t y, const std::string& text,
                  Colour background, int scale = 2);

// Final detections (boxes in the image, encoded masks) scoring at least min_score: coloured
// masks first, then box outlines and "name score" captions on top, colours by category.
void draw_detections(at::Tensor& image, const structures::Instances& detections,
                     const structures::LabelMap& labels, double min_score);

// One ground-truth object, as a picture needs it.
struct TruthObject {
  std::array<double, 4> box_xyxy{};
  int64_t category_id = 0;
  coco::Rle mask;  // at the image's size
};

// The image twice, side by side under a caption each: the ground truth on the left, the
// predictions scoring at least min_score on the right. Small images are enlarged (whole
// pixels) so that captions stay readable.
at::Tensor draw_truth_beside_predictions(const at::Tensor& image,
                                         const std::vector<TruthObject>& truth,
                                         const structures::Instances& detections,
                                         const structures::LabelMap& labels, double min_score);

}  // namespace mrcnn::visualization
