// libFuzzer target: COCO's compressed RLE string decoder (and the mask code after it) on
// arbitrary bytes. The first two bytes choose the mask size.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mrcnn/coco/rle.h"
#include "mrcnn/common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const uint32_t height = data[0] % 64 + 1;
  const uint32_t width = data[1] % 64 + 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  try {
    const mrcnn::coco::Rle rle = mrcnn::coco::rle_from_string(text, height, width);
    // A decoded mask must survive every operation and re-encode to an equivalent string.
    std::vector<uint8_t> bitmap(std::size_t(height) * width);
    mrcnn::coco::rle_decode_row_major(rle, bitmap.data());
    const auto again = mrcnn::coco::rle_encode_row_major(bitmap.data(), height, width);
    const auto text_again = mrcnn::coco::rle_to_string(again);
    if (mrcnn::coco::rle_from_string(text_again, height, width) != again) __builtin_trap();
    if (mrcnn::coco::rle_area(again) != mrcnn::coco::rle_area(rle)) __builtin_trap();
    (void)mrcnn::coco::rle_to_bbox(rle);
    const std::vector<mrcnn::coco::Rle> both = {rle, again};
    (void)mrcnn::coco::rle_merge(both, true);
    double iou[4];
    mrcnn::coco::rle_iou(both, both, {}, iou);
  } catch (const mrcnn::Error&) {
  }
  return 0;
}
