// Mask outlines as polygons: checked against the mask itself, by asking of every pixel centre
// whether it lies inside an outline (even-odd rule) and expecting exactly the mask's pixels
// with its holes filled (holes found independently, by flooding the background from the
// border).
#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "mrcnn/coco/polygons.h"
#include "mrcnn/coco/rle.h"

namespace mrcnn::coco {
namespace {

bool inside(const std::vector<double>& polygon, double x, double y) {
  bool in = false;
  const std::size_t n = polygon.size() / 2;
  for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
    const double xi = polygon[2 * i], yi = polygon[2 * i + 1];
    const double xj = polygon[2 * j], yj = polygon[2 * j + 1];
    if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
  }
  return in;
}

// The mask with every background region that does not reach the border filled. Mask parts
// touching only at a corner are separate parts, so the background flows through such a
// corner: it is flooded 8-connected.
std::vector<uint8_t> filled(const std::vector<uint8_t>& mask, int height, int width) {
  std::vector<uint8_t> outside(mask.size(), 0);
  std::deque<std::pair<int, int>> todo;
  const auto visit = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const std::size_t i = static_cast<std::size_t>(y * width + x);
    if (mask[i] || outside[i]) return;
    outside[i] = 1;
    todo.emplace_back(x, y);
  };
  for (int x = 0; x < width; ++x) visit(x, 0), visit(x, height - 1);
  for (int y = 0; y < height; ++y) visit(0, y), visit(width - 1, y);
  while (!todo.empty()) {
    const auto [x, y] = todo.front();
    todo.pop_front();
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) visit(x + dx, y + dy);
  }
  std::vector<uint8_t> out(mask.size());
  for (std::size_t i = 0; i < mask.size(); ++i) out[i] = outside[i] ? 0 : 1;
  return out;
}

void expect_outlines_cover(const std::vector<uint8_t>& mask, int height, int width) {
  const Rle rle = rle_encode_row_major(mask.data(), static_cast<uint32_t>(height),
                                       static_cast<uint32_t>(width));
  const std::vector<std::vector<double>> polygons = rle_to_polygons(rle);
  const std::vector<uint8_t> expected = filled(mask, height, width);
  for (const auto& polygon : polygons) {
    ASSERT_GE(polygon.size(), 8u);
    ASSERT_EQ(polygon.size() % 2, 0u);
    // Vertices only at turns: each vertex joins a horizontal and a vertical edge.
    const std::size_t n = polygon.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = (i + 1) % n, k = (i + 2) % n;
      const bool first_horizontal = polygon[2 * i + 1] == polygon[2 * j + 1];
      const bool second_horizontal = polygon[2 * j + 1] == polygon[2 * k + 1];
      EXPECT_NE(first_horizontal, second_horizontal) << "vertex " << j;
    }
  }
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      bool covered = false;
      for (const auto& polygon : polygons) covered = covered || inside(polygon, x + 0.5, y + 0.5);
      ASSERT_EQ(covered, expected[static_cast<std::size_t>(y * width + x)] != 0)
          << "pixel x=" << x << " y=" << y;
    }
  }
}

TEST(Polygons, OnePixelIsItsFourCorners) {
  const std::vector<uint8_t> mask = {1};
  const auto polygons = rle_to_polygons(rle_encode_row_major(mask.data(), 1, 1));
  ASSERT_EQ(polygons.size(), 1u);
  EXPECT_EQ(polygons[0], (std::vector<double>{1, 0, 1, 1, 0, 1, 0, 0}));
}

TEST(Polygons, EmptyMaskHasNone) {
  const std::vector<uint8_t> mask(12, 0);
  EXPECT_TRUE(rle_to_polygons(rle_encode_row_major(mask.data(), 3, 4)).empty());
}

TEST(Polygons, DiagonalNeighboursAreTwoParts) {
  // 1 0
  // 0 1
  const std::vector<uint8_t> mask = {1, 0, 0, 1};
  EXPECT_EQ(rle_to_polygons(rle_encode_row_major(mask.data(), 2, 2)).size(), 2u);
  expect_outlines_cover(mask, 2, 2);
}

TEST(Polygons, ARingComesBackFilled) {
  const std::vector<uint8_t> mask = {1, 1, 1,  //
                                     1, 0, 1,  //
                                     1, 1, 1};
  const auto polygons = rle_to_polygons(rle_encode_row_major(mask.data(), 3, 3));
  ASSERT_EQ(polygons.size(), 1u);
  EXPECT_EQ(polygons[0], (std::vector<double>{3, 0, 3, 3, 0, 3, 0, 0}));
}

TEST(Polygons, RandomMasksAreCoveredExactly) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int height = 1 + static_cast<int>(random() % 12),
              width = 1 + static_cast<int>(random() % 12);
    const double density = 0.2 + 0.6 * static_cast<double>(random() % 100) / 100.0;
    std::vector<uint8_t> mask(static_cast<std::size_t>(height * width));
    for (auto& pixel : mask) pixel = static_cast<double>(random() % 1000) / 1000.0 < density;
    SCOPED_TRACE("trial " + std::to_string(trial));
    expect_outlines_cover(mask, height, width);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace mrcnn::coco
