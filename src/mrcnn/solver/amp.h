// Mixed precision: an autocast scope (LibTorch has no RAII guard of its own) and dynamic loss
// scaling for fp16 (PyTorch's GradScaler, on the same ATen kernels: scale 2^16, x2 after 2000
// clean steps, x0.5 and a skipped step on inf/NaN gradients). bf16 needs no scaling.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>
#include <vector>

#include "mrcnn/io/tensor_dict.h"

namespace mrcnn::solver {

// The mixed-precision type for a device: "float16"/"bfloat16" as asked; "auto": fp16 on CUDA
// and on a vendor device whose backend computes in fp16 (`backend_has_float16`), bf16
// elsewhere (CPUs have fast bf16 kernels, few fp16 ones; bf16 is what accelerators share).
// float16 asked of a vendor device without it is an error.
at::ScalarType amp_dtype(const std::string& name, const c10::Device& device,
                         bool backend_has_float16 = false);

class AutocastScope {
 public:
  AutocastScope(c10::DeviceType device, at::ScalarType dtype, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType device_;
  bool enabled_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

class GradScaler {
 public:
  GradScaler(const c10::Device& device, bool enabled, double init_scale = 65536.0,
             double growth_factor = 2.0, double backoff_factor = 0.5,
             int64_t growth_interval = 2000);

  bool enabled() const { return enabled_; }
  at::Tensor scale(const at::Tensor& loss) const;
  // Divides the gradients by the scale; true when any of them is inf or NaN (the step must
  // then be skipped).
  bool unscale(const std::vector<at::Tensor>& parameters);
  // After each step: grows or shrinks the scale.
  void update();
  double current_scale() const;

  io::NamedTensors state() const;  // "scaler.scale", "scaler.growth_tracker"
  void load_state(const io::NamedTensors& state);

 private:
  bool enabled_;
  double growth_factor_, backoff_factor_;
  int64_t growth_interval_;
  at::Tensor scale_, growth_tracker_, found_inf_;
};

}  // namespace mrcnn::solver
