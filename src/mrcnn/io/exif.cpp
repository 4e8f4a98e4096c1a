#include "mrcnn/io/exif.h"

#include <ATen/ATen.h>

#include <cstring>

namespace mrcnn::io {
namespace {

// Reads the TIFF structure inside an APP1 "Exif" segment: a byte-order mark, the offset of
// IFD0, then 12-byte entries (tag, type, count, value).
int orientation_in_tiff(std::span<const uint8_t> tiff) {
  if (tiff.size() < 8) return 1;
  const bool little = tiff[0] == 'I' && tiff[1] == 'I';
  if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return 1;
  const auto u16 = [&](std::size_t at) -> uint32_t {
    return little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1];
  };
  const auto u32 = [&](std::size_t at) -> uint32_t {
    return little ? u16(at) | (u16(at + 2) << 16) : (u16(at) << 16) | u16(at + 2);
  };
  const uint32_t ifd = u32(4);
  if (ifd < 8 || ifd + 2 > tiff.size()) return 1;
  const uint32_t entries = u16(ifd);
  for (uint32_t k = 0; k < entries; ++k) {
    const std::size_t entry = ifd + 2 + 12 * std::size_t(k);
    if (entry + 12 > tiff.size()) return 1;
    if (u16(entry) != 0x0112) continue;
    // Type SHORT (3), count 1: the value sits in the entry's first two value bytes.
    if (u16(entry + 2) != 3 || u32(entry + 4) != 1) return 1;
    const uint32_t value = u16(entry + 8);
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

}  // namespace

int jpeg_exif_orientation(std::span<const uint8_t> bytes) {
  // Markers from SOI up to the start of the scan; the EXIF block is an APP1 among them.
  std::size_t at = 2;
  while (at + 4 <= bytes.size()) {
    if (bytes[at] != 0xFF) return 1;
    const uint8_t marker = bytes[at + 1];
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;  // start of scan, end of image
    const std::size_t length = (std::size_t(bytes[at + 2]) << 8) | bytes[at + 3];
    if (length < 2 || at + 2 + length > bytes.size()) return 1;
    const std::span<const uint8_t> segment = bytes.subspan(at + 4, length - 2);
    if (marker == 0xE1 && segment.size() >= 6 && std::memcmp(segment.data(), "Exif\0\0", 6) == 0) {
      return orientation_in_tiff(segment.subspan(6));
    }
    at += 2 + length;
  }
  return 1;
}

at::Tensor apply_orientation(const at::Tensor& image, int orientation) {
  switch (orientation) {
    case 2:  // mirrored left-right
      return image.flip({1}).contiguous();
    case 3:  // upside down
      return image.flip({0, 1}).contiguous();
    case 4:  // mirrored top-bottom
      return image.flip({0}).contiguous();
    case 5:  // transposed
      return image.transpose(0, 1).contiguous();
    case 6:  // to be turned a quarter clockwise
      return image.transpose(0, 1).flip({1}).contiguous();
    case 7:  // transversed
      return image.transpose(0, 1).flip({0, 1}).contiguous();
    case 8:  // to be turned a quarter anticlockwise
      return image.transpose(0, 1).flip({0}).contiguous();
    default:
      return image;
  }
}

}  // namespace mrcnn::io
