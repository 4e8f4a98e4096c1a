// Our weights format: safetensors (an 8-byte little-endian header length, a JSON header giving
// each tensor's dtype, shape and byte range, then the raw data), which Python reads with the
// `safetensors` package or a few lines of numpy. Keys are torchvision's names.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mrcnn/io/tensor_dict.h"

namespace mrcnn::io {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Writes atomically (temporary file, then rename). Tensors are copied to the CPU.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});
NamedTensors load_safetensors(const std::string& path, Metadata* metadata = nullptr);
// The same from bytes in memory; `name` only feeds error messages.
NamedTensors parse_safetensors(std::span<const uint8_t> bytes, const std::string& name,
                               Metadata* metadata = nullptr);

// The header's metadata alone (its ranges checked), without reading the tensors.
Metadata load_safetensors_metadata(const std::string& path);

// safetensors, a torch.save file or a paddle.save .pdparams, told apart by their first bytes;
// an http(s) URL is fetched into the weights cache first (download.h).
NamedTensors load_weights_file(const std::string& path);

}  // namespace mrcnn::io
