// Image files in and out: JPEG through TurboJPEG, PNG through libpng. Decoded images are
// uint8 tensors of shape [height, width, 3] in RGB order, whatever the file holds (grayscale,
// palette, alpha, 16-bit, CMYK). Errors name the file. An image's size is read from its header
// before any pixel is decoded, so a small file claiming a huge image (a decompression bomb) is
// refused before memory is spent on it.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mrcnn::io {

// PIL's limit (twice its MAX_IMAGE_PIXELS, where it raises DecompressionBombError): about
// 13400 x 13400, 512 MiB as uint8 RGB. 0: no limit.
inline constexpr int64_t kDefaultMaxImagePixels = 178956970;

struct ImageHeader {
  int64_t height = 0, width = 0;
};

// Two choices where decoders differ. Ours by default: PIL's and torchvision's (a JPEG's EXIF
// orientation is not applied; alpha is composited onto black). PaddleDetection's, through
// OpenCV: the orientation applied (the header then reports the upright size) and alpha
// dropped, the colour kept as stored (8-bit files; 16-bit ones are still composited).
struct DecodeOptions {
  bool exif_orientation = false;
  bool drop_alpha = false;
  bool operator==(const DecodeOptions&) const = default;
};

// Images with more than `max_pixels` pixels are refused (an error naming the file and the
// size) before decoding.
at::Tensor decode_image_file(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels,
                             const DecodeOptions& options = {});
// `name` only feeds error messages.
at::Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name,
                        int64_t max_pixels = kDefaultMaxImagePixels,
                        const DecodeOptions& options = {});
// The size from the file's header, reading as little of the file as that needs; errors as
// decode_image_file's for a missing file, a header that does not parse, or too many pixels.
ImageHeader read_image_header(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels,
                              const DecodeOptions& options = {});
// The same from bytes in memory (`name` only feeds error messages).
ImageHeader read_image_header(std::span<const uint8_t> bytes, const std::string& name,
                              int64_t max_pixels = kDefaultMaxImagePixels,
                              const DecodeOptions& options = {});

// `rgb` is a uint8 [H, W, 3] tensor (any device; copied to the CPU).
std::vector<uint8_t> encode_jpeg(const at::Tensor& rgb, int quality = 90);
std::vector<uint8_t> encode_png(const at::Tensor& rgb);
// Chooses the format from the extension (.jpg/.jpeg or .png); writes atomically.
void write_image_file(const at::Tensor& rgb, const std::string& path, int jpeg_quality = 90);

}  // namespace mrcnn::io
