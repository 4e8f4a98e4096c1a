// Reading PyTorch checkpoints made by `torch.save(model.state_dict(), path)` without Python.
//
// A state dict is an OrderedDict of tensors, which LibTorch's own unpickler refuses, so the
// archive's pickle is read here with a small unpickler that knows the opcodes a state dict
// uses (protocols 2-4), and the tensor storages come from the zip archive. Older checkpoints
// (before PyTorch 1.6, not zip archives) are read too: a sequence of pickles followed by the
// raw storages.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace mrcnn::io {

// Name -> tensor, in the checkpoint's order. Tensors are on the CPU.
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Throws mrcnn::Error naming the file when it is not a readable state dict (or a dict with a
// "model" / "state_dict" entry holding one, as training scripts often save).
NamedTensors load_torch_state_dict(const std::string& path);

}  // namespace mrcnn::io
