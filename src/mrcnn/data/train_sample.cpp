#include "mrcnn/data/train_sample.h"

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "mrcnn/common/error.h"
#include "mrcnn/data/dataset_image.h"
#include "mrcnn/modeling/transform.h"

namespace mrcnn::data {

uint64_t mix_seed(std::initializer_list<uint64_t> values) {
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (uint64_t v : values) {
    state ^= v + 0x9E3779B97F4A7C15ULL + (state << 6) + (state >> 2);
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    state = z ^ (z >> 31);
  }
  return state;
}

namespace {

// Instance masks [G, H, W] uint8 at the image's size; crowd regions stay empty (they are never
// matched, so their masks are never read).
at::Tensor instance_masks(const CocoDataset& dataset, const TrainingRecord& record,
                          const CocoImage& image) {
  const int64_t count = static_cast<int64_t>(record.annotation_indices.size());
  at::Tensor masks = at::zeros({count, image.height, image.width}, at::kByte);
  for (int64_t g = 0; g < count; ++g) {
    const CocoAnnotation& ann = dataset.annotations[record.annotation_indices[g]];
    if (ann.iscrowd) continue;
    const structures::Rle rle = dataset.annotation_rle(ann);
    if (rle.counts.empty()) continue;
    structures::rle_decode_row_major(rle, masks[g].data_ptr<uint8_t>());
  }
  return masks;
}

}  // namespace

SampleGeometry sample_geometry(const CocoImage& image, const TrainTransformOptions& options,
                               uint64_t seed) {
  TORCH_CHECK(!options.short_sides.empty(), "no short sides to draw from");
  // Drawn from the raw engine output: the standard distributions differ between libraries.
  std::mt19937_64 rng(seed);
  SampleGeometry g;
  g.short_side = options.short_sides[rng() % options.short_sides.size()];
  g.flip = static_cast<double>(rng() >> 11) * 0x1.0p-53 < options.flip_probability;
  // The inference transform's arithmetic, so training and evaluation sizes agree.
  g.size = modeling::Transform(
               modeling::TransformOptions{.min_size = g.short_side, .max_size = options.max_size})
               .resized_size(image.height, image.width);
  return g;
}

TrainSample read_train_sample(const CocoDataset& dataset, const TrainingRecord& record,
                              const std::string& image_dir, const TrainTransformOptions& options,
                              uint64_t seed) {
  const CocoImage& info = dataset.images[record.image_index];
  TrainSample sample;
  sample.image_id = info.id;
  sample.image = read_dataset_image(image_dir, info);
  sample.geometry = sample_geometry(info, options, seed);
  const auto size = sample.geometry.size;

  const int64_t count = static_cast<int64_t>(record.annotation_indices.size());
  std::vector<float> boxes;
  std::vector<int64_t> labels;
  std::vector<uint8_t> crowd;
  const double sx = double(size[1]) / info.width, sy = double(size[0]) / info.height;
  for (int64_t g = 0; g < count; ++g) {
    const CocoAnnotation& ann = dataset.annotations[record.annotation_indices[g]];
    const auto& b = record.boxes_xyxy[g];
    double x1 = b[0] * sx, x2 = b[2] * sx;
    if (sample.geometry.flip) {
      std::tie(x1, x2) = std::pair{double(size[1]) - x2, double(size[1]) - x1};
    }
    boxes.insert(boxes.end(), {float(x1), float(b[1] * sy), float(x2), float(b[3] * sy)});
    labels.push_back(options.label_is_category_id ? ann.category_id
                                                  : dataset.label_of(ann.category_id));
    crowd.push_back(ann.iscrowd ? 1 : 0);
  }
  sample.targets.boxes = at::tensor(boxes, at::kFloat).view({count, 4});
  sample.targets.labels = at::tensor(labels, at::kLong);
  sample.targets.masks = instance_masks(dataset, record, info);
  sample.targets.crowd = at::tensor(crowd, at::kByte).to(at::kBool);
  return sample;
}

void finish_train_sample(TrainSample& sample, const TrainTransformOptions& options) {
  TORCH_CHECK(!sample.finished, "finish_train_sample: sample ", sample.image_id, " is finished");
  const auto size = sample.geometry.size;
  const auto f32 = at::TensorOptions(at::kFloat).device(sample.image.device());
  const at::Tensor mean =
      at::tensor(std::vector<double>(options.mean.begin(), options.mean.end()), at::kFloat)
          .view({3, 1, 1})
          .to(f32.device(), /*non_blocking=*/true);  // made on the host: no wait for a GPU
  const at::Tensor std =
      at::tensor(std::vector<double>(options.std.begin(), options.std.end()), at::kFloat)
          .view({3, 1, 1})
          .to(f32.device(), /*non_blocking=*/true);
  at::Tensor image = sample.image.permute({2, 0, 1}).to(at::kFloat).div_(255).sub_(mean).div_(std);
  image = options.bicubic
              ? at::upsample_bicubic2d(image.unsqueeze(0), {size[0], size[1]}, false)[0]
              : at::upsample_bilinear2d(image.unsqueeze(0), {size[0], size[1]}, false)[0];
  at::Tensor masks = sample.targets.masks;
  masks = masks.size(0) > 0
              ? at::upsample_nearest2d(masks.unsqueeze(1), {size[0], size[1]}).squeeze(1)
              : at::zeros({0, size[0], size[1]}, masks.options());
  if (sample.geometry.flip) {
    image = image.flip({-1});
    masks = masks.flip({-1});
  }
  sample.image = image.contiguous();
  sample.targets.masks = masks.contiguous();
  sample.finished = true;
}

TrainSample make_train_sample(const CocoDataset& dataset, const TrainingRecord& record,
                              const std::string& image_dir, const TrainTransformOptions& options,
                              uint64_t seed) {
  TrainSample sample = read_train_sample(dataset, record, image_dir, options, seed);
  finish_train_sample(sample, options);
  return sample;
}

}  // namespace mrcnn::data
