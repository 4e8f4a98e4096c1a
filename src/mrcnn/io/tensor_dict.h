// Named tensors in file order: what a checkpoint, a state dict or a safetensors file holds.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace mrcnn::io {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

}  // namespace mrcnn::io
