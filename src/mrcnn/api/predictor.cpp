#include "mrcnn/api/predictor.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/config/loader.h"
#include "mrcnn/data/coco.h"
#include "mrcnn/engine/device.h"
#include "mrcnn/evaluation/evaluator.h"
#include "mrcnn/io/image.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/build.h"
#include "mrcnn/modeling/weights.h"

namespace mrcnn::api {

struct Predictor::State {
  config::Config config;
  c10::Device device{c10::kCPU};
  mutable modeling::MaskRCNN model{nullptr};
  evaluation::LabelMapping labels;
  std::map<int64_t, std::string> names;
};

Predictor::Predictor(std::unique_ptr<State> state) : state_(std::move(state)) {}
Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

Predictor Predictor::load(const std::string& config_path, const std::string& weights_path,
                          const std::string& device, const std::vector<std::string>& overrides) {
  auto state = std::make_unique<State>();
  state->config = config::load_config(config_path, overrides);
  state->device = engine::resolve_device(device);
  state->model = modeling::MaskRCNN(modeling::options_from_config(state->config));
  modeling::load_weights(*state->model, io::load_weights_file(weights_path), {}, weights_path);
  state->model->to(state->device);
  state->model->eval();

  const data::CocoDataset categories = evaluation::inference_categories(state->config);
  state->labels = evaluation::label_mapping(state->config, categories);
  for (const auto& category : categories.categories) state->names[category.id] = category.name;
  return Predictor(std::move(state));
}

std::vector<Detection> Predictor::predict(const at::Tensor& image) const {
  TORCH_CHECK(image.dim() == 3 && image.size(2) == 3 && image.scalar_type() == at::kByte,
              "predict expects a uint8 [height, width, 3] RGB image, got ", image.sizes(), " ",
              image.scalar_type());
  const evaluation::ImageDetections found =
      evaluation::detect(state_->model, image, state_->device, state_->labels,
                         state_->config.mask_post_process.binary_thresh, 0);
  std::vector<Detection> out;
  for (std::size_t i = 0; i < found.scores.size(); ++i) {
    Detection d;
    const auto& b = found.boxes_xywh[i];
    d.box = {float(b[0]), float(b[1]), float(b[0] + b[2]), float(b[1] + b[3])};
    d.score = static_cast<float>(found.scores[i]);
    d.category_id = found.category_ids[i];
    const auto name = state_->names.find(d.category_id);
    d.category_name = name != state_->names.end() ? name->second : std::to_string(d.category_id);
    const auto& rle = found.masks[i];
    d.mask = at::empty({rle.height, rle.width}, at::kByte);
    structures::rle_decode_row_major(rle, d.mask.data_ptr<uint8_t>());
    d.mask = d.mask.to(at::kBool);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Detection> Predictor::predict_file(const std::string& image_path) const {
  return predict(io::decode_image_file(image_path));
}

}  // namespace mrcnn::api
