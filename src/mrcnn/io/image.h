// Image files in and out: JPEG through TurboJPEG, PNG through libpng. Decoded images are
// uint8 tensors of shape [height, width, 3] in RGB order, whatever the file holds (grayscale,
// palette, alpha, 16-bit, CMYK). Errors name the file.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mrcnn::io {

at::Tensor decode_image_file(const std::string& path);
// `name` only feeds error messages.
at::Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name);

// `rgb` is a uint8 [H, W, 3] tensor (any device; copied to the CPU).
std::vector<uint8_t> encode_jpeg(const at::Tensor& rgb, int quality = 90);
std::vector<uint8_t> encode_png(const at::Tensor& rgb);
// Chooses the format from the extension (.jpg/.jpeg or .png); writes atomically.
void write_image_file(const at::Tensor& rgb, const std::string& path, int jpeg_quality = 90);

}  // namespace mrcnn::io
