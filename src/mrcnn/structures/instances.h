// The objects of one image, as every layer passes them: ground truth for training (boxes,
// labels, crowd flags, instance masks) and detections (boxes, scores, labels, mask
// probabilities, then encoded masks). detectron2's Instances, with typed fields: each one is
// optional (an undefined tensor, an empty list) and those present have one row per object,
// so that index() and to() apply to all of them at once.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <vector>

#include "mrcnn/coco/rle.h"
#include "mrcnn/structures/image_list.h"

namespace mrcnn::structures {

// One object's outline: polygons [x0, y0, x1, y1, ...] whose union is the object (COCO's form).
using Polygons = std::vector<std::vector<double>>;

struct Instances {
  ImageSize image_size{};  // the image the coordinates refer to (height, width)
  at::Tensor boxes;        // [N, 4] float x1 y1 x2 y2
  at::Tensor scores;       // [N] float (detections)
  at::Tensor labels;       // [N] int64 model labels 1..K (0 is the background)
  at::Tensor crowd;        // [N] bool (ground truth): crowd regions, never positive or negative
  at::Tensor masks;        // [N, H, W] uint8 instance masks at image_size (ground truth)
  at::Tensor mask_probs;   // [N, 1, M, M] mask probabilities within each box (detections)
  std::vector<coco::Rle> mask_rles;  // binary masks at image_size, COCO RLE (final detections)
  // Ground truth given as polygons, in the same coordinates as the boxes (host memory); an
  // empty list for objects given as RLE. Empty when no object has one. PaddleDetection's mask
  // targets are rasterised from these.
  std::vector<Polygons> polygons;

  // The regular objects' and the crowd regions' indices ([R] and [C] int64), made on the host
  // by to() so that training never has to ask a GPU which boxes are crowd regions; undefined
  // otherwise, and regular_indices() / crowd_indices() then find them.
  at::Tensor regular_index, crowd_index;

  int64_t size() const;
  // The objects at `keep` (int64 indices or a bool mask), every field at once.
  Instances index(const at::Tensor& keep) const;
  // The same objects on another device (encoded masks stay on the host).
  Instances to(const c10::Device& device, bool non_blocking = false) const;
};

at::Tensor regular_indices(const Instances& targets);
at::Tensor crowd_indices(const Instances& targets);

}  // namespace mrcnn::structures
