// SGD with momentum and L2 weight decay, as PaddleDetection's Momentum + L2Decay and PyTorch's
// SGD compute it: v = momentum * v + (g + decay * w); w -= lr * v. Normalisation layers' scale
// and shift get no decay (PaddleDetection's norm_decay 0, detectron2's WEIGHT_DECAY_NORM 0).
// The state is a momentum buffer per named parameter, saved and restored by name.
#pragma once

#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

#include "mrcnn/io/tensor_dict.h"

namespace mrcnn::solver {

struct SGDOptions {
  double momentum = 0.9;
  double weight_decay = 1e-4;
  double clip_grad_norm = 0;  // > 0: gradients rescaled so their global L2 norm is at most this
  // Parameters whose names start with a prefix step at lr times its factor (the first prefix
  // that matches; PaddleDetection's per-parameter learning_rate, e.g. ResNet.lr_mult_list).
  std::vector<std::pair<std::string, double>> lr_factors;
};

class SGD {
 public:
  // The trainable (requires_grad) parameters of `model`.
  SGD(torch::nn::Module& model, SGDOptions options);

  void zero_grad();
  // Global L2 norm of the gradients (before clipping, a 0-d tensor on their device); clips
  // when configured, without waiting for the device.
  at::Tensor clip_gradients();
  void step(double lr);

  // Momentum buffers by parameter name ("momentum.<name>"); absent before the first step.
  io::NamedTensors state() const;
  void load_state(const io::NamedTensors& state);

  const std::vector<at::Tensor>& parameters() const { return parameters_; }

 private:
  SGDOptions options_;
  std::vector<std::string> names_;
  std::vector<at::Tensor> parameters_;
  std::vector<bool> decay_;
  std::vector<double> lr_factor_;
  std::vector<at::Tensor> momentum_;  // undefined until the first step
};

// Parameters that belong to normalisation layers (GroupNorm, BatchNorm affine).
bool is_norm_parameter(const std::string& name, const at::Tensor& parameter);

}  // namespace mrcnn::solver
