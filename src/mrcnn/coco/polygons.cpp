#include "mrcnn/coco/polygons.h"

#include <array>
#include <cstdint>
#include <unordered_map>

namespace mrcnn::coco {
namespace {

// Directions of travel along pixel edges, in image coordinates (y down), clockwise.
enum Direction : uint8_t { kRight = 0, kDown = 1, kLeft = 2, kUp = 3 };
constexpr std::array<int, 4> kDx = {1, 0, -1, 0};
constexpr std::array<int, 4> kDy = {0, 1, 0, -1};

struct Edge {
  int32_t x, y;  // start corner
  Direction direction;
  bool used = false;
};

}  // namespace

std::vector<std::vector<double>> rle_to_polygons(const Rle& rle) {
  const int64_t height = rle.height, width = rle.width;
  std::vector<uint8_t> mask(static_cast<std::size_t>(height * width));
  rle_decode_row_major(rle, mask.data());
  const auto at = [&](int64_t x, int64_t y) {
    return x >= 0 && y >= 0 && x < width && y < height &&
           mask[static_cast<std::size_t>(y * width + x)];
  };

  // Every edge between a mask pixel and a non-mask one, directed so that the mask lies on its
  // right: outer outlines then run clockwise on the screen and holes counter-clockwise.
  std::vector<Edge> edges;
  std::unordered_map<int64_t, std::array<int32_t, 2>> leaving;  // corner -> up to two edges
  const auto corner = [&](int64_t x, int64_t y) { return y * (width + 1) + x; };
  const auto add = [&](int32_t x, int32_t y, Direction d) {
    auto [slot, fresh] = leaving.try_emplace(corner(x, y), std::array<int32_t, 2>{-1, -1});
    slot->second[slot->second[0] < 0 ? 0 : 1] = static_cast<int32_t>(edges.size());
    edges.push_back({x, y, d});
  };
  for (int32_t y = 0; y < height; ++y) {
    for (int32_t x = 0; x < width; ++x) {
      if (!at(x, y)) continue;
      if (!at(x, y - 1)) add(x, y, kRight);
      if (!at(x + 1, y)) add(x + 1, y, kDown);
      if (!at(x, y + 1)) add(x + 1, y + 1, kLeft);
      if (!at(x - 1, y)) add(x, y + 1, kUp);
    }
  }

  std::vector<std::vector<double>> polygons;
  for (std::size_t first = 0; first < edges.size(); ++first) {
    if (edges[first].used) continue;
    std::vector<double> outline;
    double twice_area = 0;
    std::size_t current = first;
    while (!edges[current].used) {
      Edge& edge = edges[current];
      edge.used = true;
      const int32_t end_x = edge.x + kDx[edge.direction], end_y = edge.y + kDy[edge.direction];
      twice_area += static_cast<double>(edge.x) * end_y - static_cast<double>(end_x) * edge.y;
      // Where two mask pixels touch only at this corner, two edges leave it: turning right
      // keeps the outline around one pixel, so diagonal neighbours are separate parts (and
      // each edge arriving here takes a different one of the two).
      const std::array<int32_t, 2>& next = leaving.at(corner(end_x, end_y));
      std::size_t chosen = static_cast<std::size_t>(next[0]);
      if (next[1] >= 0) {
        const auto right_turn = static_cast<Direction>((edge.direction + 1) % 4);
        if (edges[static_cast<std::size_t>(next[1])].direction == right_turn) {
          chosen = static_cast<std::size_t>(next[1]);
        }
      }
      const Edge& following = edges[chosen];
      if (following.direction != edge.direction) {  // a vertex only where the outline turns
        outline.push_back(end_x);
        outline.push_back(end_y);
      }
      current = chosen;
    }
    if (twice_area > 0) polygons.push_back(std::move(outline));  // holes have negative area
  }
  return polygons;
}

}  // namespace mrcnn::coco
