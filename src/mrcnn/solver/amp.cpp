#include "mrcnn/solver/amp.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "mrcnn/common/error.h"

namespace mrcnn::solver {

at::ScalarType amp_dtype(const std::string& name, const c10::Device& device,
                         bool backend_has_float16) {
  const bool vendor = device.type() == c10::DeviceType::PrivateUse1;
  if (name == "float16" || name == "fp16") {
    if (vendor && !backend_has_float16) {
      throw Error("amp_dtype: float16 asked, but the " + c10::DeviceTypeName(device.type(), true) +
                  " backend does not say that it computes in float16; use amp_dtype: bfloat16 "
                  "(or auto)");
    }
    return at::kHalf;
  }
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "auto" || name.empty()) {
    return device.is_cuda() || (vendor && backend_has_float16) ? at::kHalf : at::kBFloat16;
  }
  throw Error("amp_dtype must be auto, float16 or bfloat16, got '" + name + "'");
}

AutocastScope::AutocastScope(c10::DeviceType device, at::ScalarType dtype, bool enabled)
    : device_(device), enabled_(enabled) {
  if (!enabled_) return;
  previous_enabled_ = at::autocast::is_autocast_enabled(device_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_);
  at::autocast::set_autocast_enabled(device_, true);
  at::autocast::set_autocast_dtype(device_, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // Cached casts of the weights are only valid inside the outermost scope.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, previous_enabled_);
  at::autocast::set_autocast_dtype(device_, previous_dtype_);
}

GradScaler::GradScaler(const c10::Device& device, bool enabled, double init_scale,
                       double growth_factor, double backoff_factor, int64_t growth_interval)
    : enabled_(enabled),
      growth_factor_(growth_factor),
      backoff_factor_(backoff_factor),
      growth_interval_(growth_interval) {
  const auto f32 = at::TensorOptions(at::kFloat).device(device);
  scale_ = at::full({1}, init_scale, f32);
  growth_tracker_ = at::zeros({1}, f32.dtype(at::kInt));
  found_inf_ = at::zeros({1}, f32);
}

at::Tensor GradScaler::scale(const at::Tensor& loss) const {
  return enabled_ ? loss * scale_.to(loss.scalar_type()) : loss;
}

bool GradScaler::unscale(const std::vector<at::Tensor>& parameters) {
  if (!enabled_) return false;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  found_inf_.zero_();
  const at::Tensor inv_scale = scale_.to(at::kDouble).reciprocal().to(at::kFloat);
  at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, inv_scale);
  return found_inf_.item<float>() != 0;
}

void GradScaler::update() {
  if (!enabled_) return;
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, growth_factor_, backoff_factor_,
                         growth_interval_);
}

double GradScaler::current_scale() const { return enabled_ ? scale_.item<double>() : 1.0; }

io::NamedTensors GradScaler::state() const {
  return {{"scaler.scale", scale_}, {"scaler.growth_tracker", growth_tracker_}};
}

void GradScaler::load_state(const io::NamedTensors& state) {
  for (const auto& [key, tensor] : state) {
    if (key == "scaler.scale") scale_.copy_(tensor);
    if (key == "scaler.growth_tracker") growth_tracker_.copy_(tensor);
  }
}

}  // namespace mrcnn::solver
