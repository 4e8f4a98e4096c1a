#include "mrcnn/engine/optimizer.h"

#include <ATen/ATen.h>

#include <cmath>

#include "mrcnn/common/error.h"

namespace mrcnn::engine {

bool is_norm_parameter(const std::string& name, const at::Tensor& parameter) {
  // Norm layers are named bnN or downsample.1 (ResNet) and hold 1-D parameters; biases of
  // convolutions and linear layers are 1-D too but keep their decay, as in PaddleDetection.
  if (parameter.dim() != 1) return false;
  const std::string module = name.substr(0, name.rfind('.'));
  const std::string last = module.substr(module.rfind('.') + 1);
  return last.starts_with("bn") || module.ends_with(".downsample.1");
}

SGD::SGD(torch::nn::Module& model, SGDOptions options) : options_(options) {
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    if (!item.value().requires_grad()) continue;
    names_.push_back(item.key());
    parameters_.push_back(item.value());
    decay_.push_back(!is_norm_parameter(item.key(), item.value()));
  }
  momentum_.resize(parameters_.size());
}

void SGD::zero_grad() {
  for (auto& p : parameters_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

double SGD::clip_gradients() {
  std::vector<at::Tensor> norms;
  for (const auto& p : parameters_) {
    if (p.grad().defined()) norms.push_back(p.grad().detach().to(at::kFloat).norm().unsqueeze(0));
  }
  if (norms.empty()) return 0;
  const at::Tensor total = at::cat(norms).norm();
  const double norm = total.item<double>();
  if (options_.clip_grad_norm > 0 && norm > options_.clip_grad_norm) {
    const double scale = options_.clip_grad_norm / (norm + 1e-6);
    for (auto& p : parameters_) {
      if (p.grad().defined()) p.mutable_grad().mul_(scale);
    }
  }
  return norm;
}

void SGD::step(double lr) {
  at::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    at::Tensor& p = parameters_[i];
    if (!p.grad().defined()) continue;
    at::Tensor d = p.grad();
    if (decay_[i] && options_.weight_decay != 0) d = d.add(p, options_.weight_decay);
    if (options_.momentum != 0) {
      if (!momentum_[i].defined()) {
        momentum_[i] = d.clone();
      } else {
        momentum_[i].mul_(options_.momentum).add_(d);
      }
      d = momentum_[i];
    }
    p.add_(d, -lr);
  }
}

io::NamedTensors SGD::state() const {
  io::NamedTensors state;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (momentum_[i].defined()) state.emplace_back("momentum." + names_[i], momentum_[i]);
  }
  return state;
}

void SGD::load_state(const io::NamedTensors& state) {
  std::vector<at::Tensor> loaded(parameters_.size());
  for (const auto& [key, tensor] : state) {
    if (key.rfind("momentum.", 0) != 0) continue;
    const std::string name = key.substr(9);
    const auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end())
      throw Error("optimizer state has a buffer for unknown parameter " + name);
    const std::size_t i = static_cast<std::size_t>(it - names_.begin());
    if (!tensor.sizes().equals(parameters_[i].sizes()))
      throw Error("optimizer state for " + name + " has the wrong shape");
    loaded[i] = at::empty_like(parameters_[i]).copy_(tensor);  // the parameter's layout
  }
  momentum_ = std::move(loaded);
}

}  // namespace mrcnn::engine
