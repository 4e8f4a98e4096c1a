// COCO RLE: hand-computed goldens (the exhaustive comparison with pycocotools lives in
// tests/reference/test_masks.py).
#include <gtest/gtest.h>

#include "mrcnn/coco/rle.h"
#include "mrcnn/common/error.h"

namespace mrcnn::coco {
namespace {

TEST(Rle, EncodesColumnMajorStartingWithZeros) {
  // 3 rows x 2 columns, foreground at (row 1, col 0) and (row 2, col 1).
  const uint8_t row_major[6] = {0, 0, 1, 0, 0, 1};
  const Rle rle = rle_encode_row_major(row_major, 3, 2);
  EXPECT_EQ(rle.counts, (std::vector<uint32_t>{1, 1, 3, 1}));
  EXPECT_EQ(rle_to_string(rle), "1130");
  const uint8_t column_major[6] = {0, 1, 0, 0, 0, 1};
  EXPECT_EQ(rle_encode_column_major(column_major, 3, 2), rle);

  uint8_t decoded[6];
  rle_decode_row_major(rle, decoded);
  EXPECT_TRUE(std::equal(decoded, decoded + 6, row_major));
  EXPECT_EQ(rle_area(rle), 2u);
  EXPECT_EQ(rle_to_bbox(rle), (std::array<double, 4>{0, 1, 2, 2}));
}

TEST(Rle, StringCodecRoundTripsIncludingNegativeDifferences) {
  const Rle full{2, 2, {0, 4}};
  EXPECT_EQ(rle_to_string(full), "04");
  const Rle rle{100, 100, {5, 1000, 30, 8000, 965}};  // 30 - 1000 < 0 exercises the sign bit
  const std::string text = rle_to_string(rle);
  EXPECT_EQ(rle_from_string(text, 100, 100), rle);
}

TEST(Rle, MalformedStringsAreErrors) {
  EXPECT_THROW(rle_from_string("04", 3, 3), Error);   // 4 pixels for a 9-pixel mask
  EXPECT_THROW(rle_from_string("0 4", 2, 2), Error);  // character below '0'
  EXPECT_THROW(rle_from_string("0`", 2, 2), Error);   // '`' has the "more" bit: truncated
  EXPECT_THROW(rle_from_string("0\x7f", 2, 2), Error);
  EXPECT_THROW(rle_from_string(std::string(20, 'o'), 2, 2), Error);  // count far too long
}

TEST(Rle, EmptyMaskHasZeroBox) {
  const Rle empty{4, 5, {20}};
  EXPECT_EQ(rle_area(empty), 0u);
  EXPECT_EQ(rle_to_bbox(empty), (std::array<double, 4>{0, 0, 0, 0}));
}

TEST(Rle, PolygonSquare) {
  const std::vector<double> square = {0, 0, 4, 0, 4, 4, 0, 4};
  const Rle rle = rle_from_polygon(square, 6, 6);
  EXPECT_EQ(rle_to_string(rle), "04200000<");  // pycocotools' result
  EXPECT_EQ(rle_area(rle), 16u);
  EXPECT_EQ(rle_to_bbox(rle), (std::array<double, 4>{0, 0, 4, 4}));
}

TEST(Rle, DegenerateBoxesAndRepeatedVertices) {
  // Found by fuzzing: a zero-width box as a polygon has a repeated vertex, whose edge slope is
  // 0/0 in COCO's rasteriser. The result must still be COCO's (here: empty) and well defined.
  const Rle zero_width = rle_from_bbox({0, 1, 0, 3}, 6, 8);
  EXPECT_EQ(rle_to_string(zero_width), "`1");  // 48 zeros, as pycocotools gives
  EXPECT_EQ(rle_area(zero_width), 0u);
}

TEST(Rle, MergeUnionAndIntersection) {
  const uint8_t a[4] = {1, 1, 0, 0};  // row-major 2x2: top row
  const uint8_t b[4] = {1, 0, 1, 0};  // left column
  const std::vector<Rle> both = {rle_encode_row_major(a, 2, 2), rle_encode_row_major(b, 2, 2)};
  EXPECT_EQ(rle_area(rle_merge(both, false)), 3u);
  EXPECT_EQ(rle_area(rle_merge(both, true)), 1u);
  const std::vector<Rle> mismatched = {Rle{2, 2, {4}}, Rle{1, 4, {4}}};
  EXPECT_THROW(rle_merge(mismatched, false), Error);
}

TEST(Rle, RegionEncodingEqualsWholeImageEncoding) {
  uint64_t state = 12345;
  auto next = [&] {
    return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33;
  };
  for (int trial = 0; trial < 200; ++trial) {
    const uint32_t h = 1 + next() % 20, w = 1 + next() % 20;
    const uint32_t x0 = next() % w, y0 = next() % h;
    const uint32_t rw = 1 + next() % (w - x0), rh = 1 + next() % (h - y0);
    std::vector<uint8_t> region(rh * rw), full(h * w, 0);
    for (uint32_t y = 0; y < rh; ++y)
      for (uint32_t x = 0; x < rw; ++x)
        full[(y0 + y) * w + x0 + x] = region[y * rw + x] = next() % 3 == 0;
    EXPECT_EQ(rle_encode_region(region.data(), rh, rw, x0, y0, h, w),
              rle_encode_row_major(full.data(), h, w))
        << "trial " << trial;
  }
}

TEST(BoxIou, CrowdUsesTheDetectionAreaAsUnion) {
  const std::vector<std::array<double, 4>> dt = {{0, 0, 10, 10}};
  const std::vector<std::array<double, 4>> gt = {{5, 0, 10, 10}, {5, 0, 10, 10}, {20, 20, 1, 1}};
  const std::vector<uint8_t> crowd = {0, 1, 0};
  double out[3];
  box_iou(dt, gt, crowd, out);
  EXPECT_DOUBLE_EQ(out[0], 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(out[1], 0.5);
  EXPECT_EQ(out[2], 0.0);
}

TEST(MaskIou, CrowdAndSizeMismatch) {
  const uint8_t a[4] = {1, 1, 0, 0};
  const uint8_t b[4] = {1, 1, 1, 1};
  const std::vector<Rle> dt = {rle_encode_row_major(a, 2, 2)};
  const std::vector<Rle> gt = {rle_encode_row_major(b, 2, 2), rle_encode_row_major(b, 2, 2)};
  const std::vector<uint8_t> crowd = {0, 1};
  double out[2];
  rle_iou(dt, gt, crowd, out);
  EXPECT_DOUBLE_EQ(out[0], 0.5);  // 2 / 4
  EXPECT_DOUBLE_EQ(out[1], 1.0);  // 2 / area(dt)
  const std::vector<Rle> other_size = {Rle{4, 1, {0, 4}}};
  rle_iou(dt, other_size, {}, out);
  EXPECT_EQ(out[0], -1.0);
}

}  // namespace
}  // namespace mrcnn::coco
