// Reading PyTorch checkpoints made by `torch.save(model.state_dict(), path)` without Python.
//
// A state dict is an OrderedDict of tensors, which LibTorch's own unpickler refuses, so the
// archive's pickle is read here with a small unpickler that knows the opcodes a state dict
// uses (protocols 2-4), and the tensor storages come from the zip archive. Older checkpoints
// (before PyTorch 1.6, not zip archives) are read too: a sequence of pickles followed by the
// raw storages. So are Paddle's `.pdparams` (`paddle.save(layer.state_dict(), path)`): one
// pickle of a dict of numpy arrays, their data inline; entries that are no arrays (Paddle's
// "StructuredToParameterName@@" table) are left out.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "mrcnn/io/tensor_dict.h"

namespace mrcnn::io {

// Throws mrcnn::Error naming the file when it is not a readable state dict (or a dict with a
// "model" / "state_dict" entry holding one, as training scripts often save).
// Tensors are on the CPU, in the checkpoint's order.
NamedTensors load_torch_state_dict(const std::string& path);
// The same from bytes in memory; `name` only feeds error messages.
NamedTensors parse_torch_state_dict(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace mrcnn::io
