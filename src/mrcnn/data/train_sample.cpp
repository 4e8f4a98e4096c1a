#include "mrcnn/data/train_sample.h"

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "mrcnn/common/error.h"
#include "mrcnn/data/dataset_image.h"

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
at::Tensor instance_masks(const coco::Dataset& dataset, const coco::TrainingRecord& record,
                          const coco::Image& image) {
  const int64_t count = static_cast<int64_t>(record.annotation_indices.size());
  at::Tensor masks = at::zeros({count, image.height, image.width}, at::kByte);
  for (int64_t g = 0; g < count; ++g) {
    const coco::Annotation& ann = dataset.annotations[record.annotation_indices[g]];
    if (ann.iscrowd) continue;
    const coco::Rle rle = dataset.annotation_rle(ann);
    if (rle.counts.empty()) continue;
    coco::rle_decode_row_major(rle, masks[g].data_ptr<uint8_t>());
  }
  return masks;
}

}  // namespace

TrainSample read_train_sample(const coco::Dataset& dataset, const coco::TrainingRecord& record,
                              const ImageFolder& images, const structures::LabelMap& labels,
                              const TransformOptions& options, uint64_t seed) {
  const coco::Image& info = dataset.images[record.image_index];
  TrainSample sample;
  sample.image_id = info.id;
  sample.image = read_dataset_image(images, info);
  sample.geometry = sample_geometry({info.height, info.width}, options, seed);
  const auto size = sample.geometry.size;

  const int64_t count = static_cast<int64_t>(record.annotation_indices.size());
  std::vector<float> boxes;
  std::vector<int64_t> classes;
  std::vector<uint8_t> crowd;
  std::vector<structures::Polygons> polygons;
  bool any_polygon = false;
  const double sx = double(size[1]) / info.width, sy = double(size[0]) / info.height;
  for (int64_t g = 0; g < count; ++g) {
    const coco::Annotation& ann = dataset.annotations[record.annotation_indices[g]];
    const auto& b = record.boxes_xyxy[g];
    double x1 = b[0] * sx, x2 = b[2] * sx;
    if (sample.geometry.flip) {
      std::tie(x1, x2) = std::pair{double(size[1]) - x2, double(size[1]) - x1};
    }
    boxes.insert(boxes.end(), {float(x1), float(b[1] * sy), float(x2), float(b[3] * sy)});
    structures::Polygons outline;
    if (!ann.iscrowd && ann.segmentation.kind == coco::Segmentation::Kind::kPolygons) {
      outline = ann.segmentation.polygons;
      for (std::vector<double>& polygon : outline) {
        for (std::size_t k = 0; k + 1 < polygon.size(); k += 2) {
          polygon[k] *= sx;
          if (sample.geometry.flip) polygon[k] = double(size[1]) - polygon[k];
          polygon[k + 1] *= sy;
        }
      }
    }
    any_polygon = any_polygon || !outline.empty();
    polygons.push_back(std::move(outline));
    classes.push_back(labels.label_of(ann.category_id));
    crowd.push_back(ann.iscrowd ? 1 : 0);
  }
  sample.targets.boxes = at::tensor(boxes, at::kFloat).view({count, 4});
  sample.targets.image_size = size;
  sample.targets.labels = at::tensor(classes, at::kLong);
  sample.targets.masks = instance_masks(dataset, record, info);
  sample.targets.crowd = at::tensor(crowd, at::kByte).to(at::kBool);
  if (any_polygon) sample.targets.polygons = std::move(polygons);
  return sample;
}

void finish_train_sample(TrainSample& sample, const TransformOptions& options) {
  TORCH_CHECK(!sample.finished, "finish_train_sample: sample ", sample.image_id, " is finished");
  sample.image = transform_image(sample.image, sample.geometry, options);
  sample.targets.masks = transform_masks(sample.targets.masks, sample.geometry);
  sample.finished = true;
}

}  // namespace mrcnn::data
