#include "mrcnn/build/readers.h"

#include <algorithm>
#include <variant>

namespace mrcnn::build {
namespace {

std::array<int64_t, 2> size_pair(const std::vector<int64_t>& size) {
  return size.size() == 1 ? std::array<int64_t, 2>{size[0], size[0]}
                          : std::array<int64_t, 2>{size[0], size[1]};
}

data::SizeRounding size_rounding(const std::string& name) {
  return name == "floor" ? data::SizeRounding::kFloor : data::SizeRounding::kNearest;
}

}  // namespace

data::TransformOptions transform_options(const config::ReaderConfig& reader) {
  data::TransformOptions o;
  o.target_sizes.clear();  // no resize op: images keep their size
  o.normalize = false;     // no NormalizeImage: pixels stay 0..255
  for (const auto& t : reader.sample_transforms) {
    if (const auto* random = std::get_if<config::RandomResizeOp>(&t)) {
      for (const auto& size : random->target_size) o.target_sizes.push_back(size_pair(size));
      o.keep_ratio = random->keep_ratio;
      o.size_rounding = size_rounding(random->size_rounding);
      o.interp = static_cast<data::Interpolation>(random->interp);
    } else if (const auto* resize = std::get_if<config::ResizeOp>(&t)) {
      o.target_sizes = {size_pair(resize->target_size)};
      o.keep_ratio = resize->keep_ratio;
      o.size_rounding = size_rounding(resize->size_rounding);
      o.interp = static_cast<data::Interpolation>(resize->interp);
    } else if (const auto* flip = std::get_if<config::RandomFlipOp>(&t)) {
      o.flip_probability = flip->prob;
    } else if (const auto* normalize = std::get_if<config::NormalizeImageOp>(&t)) {
      o.normalize = true;
      const double unit = normalize->is_scale ? 1.0 : 255.0;
      for (int k = 0; k < 3; ++k) {
        o.mean[k] = normalize->mean[k] / unit;
        o.std[k] = normalize->std[k] / unit;
      }
    }
  }
  o.pad_to_stride = 0;
  for (const auto& t : reader.batch_transforms) {
    o.pad_to_stride = std::max<int64_t>(std::get<config::PadBatchOp>(t).pad_to_stride, 0);
  }
  return o;
}

}  // namespace mrcnn::build
