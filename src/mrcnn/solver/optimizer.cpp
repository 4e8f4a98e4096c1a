#include "mrcnn/solver/optimizer.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "mrcnn/common/error.h"

namespace mrcnn::solver {

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
    double factor = 1.0;
    for (const auto& [prefix, f] : options_.lr_factors) {
      if (item.key().starts_with(prefix)) {
        factor = f;
        break;
      }
    }
    lr_factor_.push_back(factor);
  }
  momentum_.resize(parameters_.size());
}

void SGD::zero_grad() {
  for (auto& p : parameters_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

at::Tensor SGD::clip_gradients() {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : parameters_) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return at::zeros({});
  const at::Tensor norm = at::stack(at::_foreach_norm(grads)).to(at::kFloat).norm();
  if (options_.clip_grad_norm > 0) {
    // A factor of at most 1 computed on the device: no wait for the norm (PyTorch's rule).
    const at::Tensor factor = (options_.clip_grad_norm / (norm + 1e-6)).clamp_max(1.0);
    at::_foreach_mul_(grads, factor);
  }
  return norm;
}

void SGD::step(double lr) {
  at::NoGradGuard no_grad;
  // Whole lists per operation (one fused kernel per list on GPUs, not one per parameter).
  // d = g + decay * w for the decayed parameters, g for the others.
  std::vector<at::Tensor> params, d, decayed_params, decayed_grads;
  std::vector<std::size_t> index, decayed_positions;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const at::Tensor& p = parameters_[i];
    if (!p.grad().defined()) continue;
    if (decay_[i] && options_.weight_decay != 0) {
      decayed_positions.push_back(params.size());
      decayed_params.push_back(p);
      decayed_grads.push_back(p.grad());
    }
    index.push_back(i);
    params.push_back(p);
    d.push_back(p.grad());
  }
  if (params.empty()) return;
  if (!decayed_grads.empty()) {
    std::vector<at::Tensor> with_decay =
        at::_foreach_add(decayed_grads, decayed_params, options_.weight_decay);
    for (std::size_t j = 0; j < with_decay.size(); ++j) d[decayed_positions[j]] = with_decay[j];
  }
  if (options_.momentum != 0) {
    std::vector<at::Tensor> buffers, updates;
    for (std::size_t k = 0; k < index.size(); ++k) {
      at::Tensor& v = momentum_[index[k]];
      if (!v.defined()) {
        v = d[k].clone();  // the first step: v = d
      } else {
        buffers.push_back(v);
        updates.push_back(d[k]);
      }
      d[k] = v;
    }
    if (!buffers.empty()) {
      at::_foreach_mul_(buffers, options_.momentum);
      at::_foreach_add_(buffers, updates);
    }
  }
  // w -= lr * factor * v, one list per distinct factor (one list in the usual case).
  std::vector<double> factors;
  for (std::size_t i : index) {
    if (std::find(factors.begin(), factors.end(), lr_factor_[i]) == factors.end())
      factors.push_back(lr_factor_[i]);
  }
  if (factors.size() == 1) {
    at::_foreach_add_(params, d, -lr * factors[0]);
    return;
  }
  for (double factor : factors) {
    std::vector<at::Tensor> group_params, group_updates;
    for (std::size_t k = 0; k < index.size(); ++k) {
      if (lr_factor_[index[k]] != factor) continue;
      group_params.push_back(params[k]);
      group_updates.push_back(d[k]);
    }
    at::_foreach_add_(group_params, group_updates, -lr * factor);
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

}  // namespace mrcnn::solver
