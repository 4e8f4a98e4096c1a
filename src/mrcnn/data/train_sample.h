// One training image made ready for the model: decoded, resized to a random short side,
// randomly flipped, normalised, with its boxes, labels, crowd flags and instance masks in the
// same coordinates. Every random choice comes from `seed`, so a sample is a pure function of
// (record, seed) whatever thread makes it. Two parts: reading (decoding, on the CPU) and
// finishing (the tensor work, on whatever device holds the read tensors, a GPU included).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/data/coco.h"
#include "mrcnn/modeling/targets.h"

namespace mrcnn::data {

struct TrainTransformOptions {
  // Short sides to draw from, one per image, and the cap on the long side.
  std::vector<int64_t> short_sides = {800};
  int64_t max_size = 1333;
  bool bicubic = false;  // resampling of the image (masks always take the nearest pixel)
  double flip_probability = 0.5;
  std::array<double, 3> mean = {0.485, 0.456, 0.406};  // on images scaled to 0..1
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  // Labels: false: contiguous 1..K by sorted category id; true: label == category id.
  bool label_is_category_id = false;
};

// The random choices for one sample and the size the image is resized to; cheap (no decoding),
// so every rank can know the sizes of a whole global batch.
struct SampleGeometry {
  int64_t short_side = 0;
  bool flip = false;
  std::array<int64_t, 2> size{};  // height, width after resizing
};
SampleGeometry sample_geometry(const CocoImage& image, const TrainTransformOptions& options,
                               uint64_t seed);

struct TrainSample {
  int64_t image_id = 0;
  SampleGeometry geometry;
  bool finished = false;
  // Read: uint8 [H, W, 3] as decoded. Finished: float [3, h, w], resized, flipped, normalised.
  at::Tensor image;
  // Boxes, labels and crowd flags are final once read; the masks are uint8 [G, H, W] at the
  // decoded size until finished, then [G, h, w] like the image.
  modeling::ImageTargets targets;
};

// Decodes the image and rasterises the masks; boxes already in the finished coordinates.
TrainSample read_train_sample(const CocoDataset& dataset, const TrainingRecord& record,
                              const std::string& image_dir, const TrainTransformOptions& options,
                              uint64_t seed);
// Resizes, flips and normalises a read sample on the device its tensors are on (the same
// operations in the same order on every device, so the CPU gives the same bits either way).
void finish_train_sample(TrainSample& sample, const TrainTransformOptions& options);
// Both parts on the calling thread.
TrainSample make_train_sample(const CocoDataset& dataset, const TrainingRecord& record,
                              const std::string& image_dir, const TrainTransformOptions& options,
                              uint64_t seed);

// A well-mixed 64-bit value from several (splitmix64 steps): per-sample and per-step seeds.
uint64_t mix_seed(std::initializer_list<uint64_t> values);

}  // namespace mrcnn::data
