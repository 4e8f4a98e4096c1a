// The orientation a JPEG's EXIF block records (tag 0x0112): how the stored pixels must be
// turned to be seen upright. Cameras store portrait photos sideways and set this tag; OpenCV
// (and so PaddleDetection) applies it when decoding, PIL and torchvision do not.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>

namespace mrcnn::io {

// 1..8 as EXIF defines them; 1 (as stored) when the file has no EXIF block, no orientation
// tag, or one that does not parse (a broken tag never stops a decode).
int jpeg_exif_orientation(std::span<const uint8_t> bytes);

// Whether the orientation swaps height and width (5..8: a quarter turn or a transposition).
inline bool orientation_swaps_axes(int orientation) { return orientation >= 5 && orientation <= 8; }

// An [H, W, C] image turned upright for `orientation`.
at::Tensor apply_orientation(const at::Tensor& image, int orientation);

}  // namespace mrcnn::io
