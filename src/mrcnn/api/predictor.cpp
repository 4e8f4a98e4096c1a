#include "mrcnn/api/predictor.h"

#include <ATen/ATen.h>

#include <optional>

#include "mrcnn/build/device.h"
#include "mrcnn/build/labels.h"
#include "mrcnn/build/model_setup.h"
#include "mrcnn/build/paths.h"
#include "mrcnn/build/readers.h"
#include "mrcnn/config/loader.h"
#include "mrcnn/data/transforms.h"
#include "mrcnn/io/image.h"

namespace mrcnn::api {

struct Predictor::State {
  c10::Device device{c10::kCPU};
  // Shared by every predicting thread: in eval mode, and predict never changes it.
  mutable modeling::MaskRCNN model{nullptr};
  data::TransformOptions transform;
  int64_t max_image_pixels = io::kDefaultMaxImagePixels;
  io::DecodeOptions decode;
  std::optional<structures::LabelMap> labels;  // set by load()
  Description description;
};

Predictor::Predictor(std::unique_ptr<State> state) : state_(std::move(state)) {}
Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

Predictor Predictor::load(const std::string& config_path, const std::string& weights_path,
                          const std::string& device, const std::vector<std::string>& overrides) {
  const config::Config config = config::load_config(config_path, overrides);
  auto state = std::make_unique<State>();
  state->device = build::select_device(config, device);
  const std::string weights = build::resolve_weights_path(weights_path, config);
  state->model = build::load_model(config, weights, state->device);
  state->transform = build::transform_options(config.test_reader);
  state->max_image_pixels = config.max_image_pixels;
  state->decode = build::decode_options(config);
  state->labels = build::inference_categories(config).labels;
  state->description = {.config_name = config.config_name,
                        .weights_path = weights,
                        .device = state->device.str(),
                        .max_image_pixels = config.max_image_pixels,
                        .decode = state->decode};
  return Predictor(std::move(state));
}

std::vector<structures::Instances> Predictor::predict(const std::vector<at::Tensor>& images,
                                                      double min_score) const {
  for (const at::Tensor& image : images) {
    TORCH_CHECK(image.dim() == 3 && image.size(2) == 3 && image.scalar_type() == at::kByte,
                "predict expects uint8 [height, width, 3] RGB images, got ", image.sizes(), " ",
                image.scalar_type());
  }
  return state_->model->detect(data::preprocess_images(images, state_->transform, state_->device),
                               min_score);
}

structures::Instances Predictor::predict(const at::Tensor& image) const {
  return predict(std::vector<at::Tensor>{image})[0];
}

structures::Instances Predictor::predict_file(const std::string& image_path) const {
  return predict(io::decode_image_file(image_path, state_->max_image_pixels, state_->decode));
}

const structures::LabelMap& Predictor::labels() const { return *state_->labels; }

const Predictor::Description& Predictor::description() const { return state_->description; }

}  // namespace mrcnn::api
