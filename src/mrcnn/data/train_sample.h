// One training image made ready for the model: decoded, then resized to a randomly drawn size,
// randomly flipped and normalised (transforms.h), with its boxes, labels, crowd flags and
// instance masks in the same coordinates. Every random choice comes from `seed`, so a sample
// is a pure function of (record, seed) whatever thread makes it. Two parts: reading (decoding,
// on the CPU) and finishing (the tensor work, on whatever device holds the read tensors).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "mrcnn/coco/training_view.h"
#include "mrcnn/data/dataset_image.h"
#include "mrcnn/data/transforms.h"
#include "mrcnn/structures/instances.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::data {

struct TrainSample {
  int64_t image_id = 0;
  SampleGeometry geometry;
  bool finished = false;
  // Read: uint8 [H, W, 3] as decoded. Finished: float [3, h, w], resized, flipped, normalised.
  at::Tensor image;
  // Boxes, labels and crowd flags are final once read; the masks are uint8 [G, H, W] at the
  // decoded size until finished, then [G, h, w] like the image.
  structures::Instances targets;
};

// Decodes the image and rasterises the masks; boxes already in the finished coordinates.
TrainSample read_train_sample(const coco::Dataset& dataset, const coco::TrainingRecord& record,
                              const ImageFolder& images, const structures::LabelMap& labels,
                              const TransformOptions& options, uint64_t seed);
// Resizes, flips and normalises a read sample on the device its tensors are on.
void finish_train_sample(TrainSample& sample, const TransformOptions& options);

// A well-mixed 64-bit value from several (splitmix64 steps): per-sample and per-step seeds.
uint64_t mix_seed(std::initializer_list<uint64_t> values);

}  // namespace mrcnn::data
