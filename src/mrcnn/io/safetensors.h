// Our weights format: safetensors (an 8-byte little-endian header length, a JSON header giving
// each tensor's dtype, shape and byte range, then the raw data), which Python reads with the
// `safetensors` package or a few lines of numpy. Keys are torchvision's names.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mrcnn/io/torch_checkpoint.h"

namespace mrcnn::io {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Writes atomically (temporary file, then rename). Tensors are copied to the CPU.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});
NamedTensors load_safetensors(const std::string& path, Metadata* metadata = nullptr);

// safetensors or a torch.save file, told apart by their first bytes.
NamedTensors load_weights_file(const std::string& path);

}  // namespace mrcnn::io
