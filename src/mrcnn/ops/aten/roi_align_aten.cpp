// RoIAlign from gathers and arithmetic: same sample points, bilinear weights and boundary
// rules as the kernels, so results agree to float rounding.
#include <ATen/ATen.h>

#include <cmath>
#include <map>

#include "mrcnn/ops/aten/ops_aten.h"

namespace mrcnn::ops::aten {
namespace {

// Coordinates of a grid of samples along one axis: [n, pooled * grid].
at::Tensor sample_coordinates(const at::Tensor& start, const at::Tensor& bin, int64_t pooled,
                              int64_t grid) {
  const auto options = start.options();
  const at::Tensor p = at::arange(pooled, options).view({1, pooled, 1});
  const at::Tensor g = (at::arange(grid, options) + 0.5).view({1, 1, grid});
  return (start.view({-1, 1, 1}) + p * bin.view({-1, 1, 1}) + g * bin.view({-1, 1, 1}) / grid)
      .reshape({start.size(0), -1});
}

// Bilinear interpolation at (y, x) per RoI, over the RoI's image. values: [C, N*H*W].
at::Tensor bilinear(const at::Tensor& values, const at::Tensor& batch, at::Tensor y, at::Tensor x,
                    int64_t height, int64_t width) {
  // y: [n, SY], x: [n, SX] -> [n, C, SY, SX]
  const int64_t n = y.size(0), sy = y.size(1), sx = x.size(1);
  const at::Tensor y_out = (y < -1.0).logical_or(y > height);
  const at::Tensor x_out = (x < -1.0).logical_or(x > width);
  y = y.clamp_min(0);
  x = x.clamp_min(0);
  at::Tensor y_low = y.to(at::kLong), x_low = x.to(at::kLong);
  const at::Tensor y_top = y_low >= height - 1, x_top = x_low >= width - 1;
  y_low = at::where(y_top, height - 1, y_low);
  x_low = at::where(x_top, width - 1, x_low);
  const at::Tensor y_high = at::where(y_top, y_low, y_low + 1);
  const at::Tensor x_high = at::where(x_top, x_low, x_low + 1);
  y = at::where(y_top, y_low.to(y.scalar_type()), y);
  x = at::where(x_top, x_low.to(x.scalar_type()), x);
  const at::Tensor ly = (y - y_low).unsqueeze(2), lx = (x - x_low).unsqueeze(1);
  const at::Tensor hy = 1 - ly, hx = 1 - lx;
  const at::Tensor base = (batch * height * width).view({n, 1, 1});
  auto gather = [&](const at::Tensor& yy, const at::Tensor& xx) {
    const at::Tensor index = (base + yy.unsqueeze(2) * width + xx.unsqueeze(1)).reshape(-1);
    return values.index_select(1, index).view({values.size(0), n, sy, sx}).permute({1, 0, 2, 3});
  };
  const at::Tensor result = (hy * hx).unsqueeze(1) * gather(y_low, x_low) +
                            (hy * lx).unsqueeze(1) * gather(y_low, x_high) +
                            (ly * hx).unsqueeze(1) * gather(y_high, x_low) +
                            (ly * lx).unsqueeze(1) * gather(y_high, x_high);
  const at::Tensor outside = y_out.unsqueeze(2).logical_or(x_out.unsqueeze(1)).unsqueeze(1);
  return result.masked_fill(outside, 0);
}

}  // namespace

at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, const RoIAlignOptions& o) {
  const int64_t channels = input.size(1), height = input.size(2), width = input.size(3);
  const int64_t ph = o.pooled_height, pw = o.pooled_width;
  at::Tensor output = at::zeros({rois.size(0), channels, ph, pw}, input.options());
  if (rois.size(0) == 0) return output;
  const at::Tensor boxes = rois.to(input.scalar_type());
  const double offset = o.aligned ? 0.5 : 0.0;
  const at::Tensor start_w = boxes.select(1, 1) * o.spatial_scale - offset;
  const at::Tensor start_h = boxes.select(1, 2) * o.spatial_scale - offset;
  at::Tensor roi_w = boxes.select(1, 3) * o.spatial_scale - offset - start_w;
  at::Tensor roi_h = boxes.select(1, 4) * o.spatial_scale - offset - start_h;
  if (!o.aligned) {
    roi_w = roi_w.clamp_min(1.0);
    roi_h = roi_h.clamp_min(1.0);
  }
  const at::Tensor bin_w = roi_w / pw, bin_h = roi_h / ph;
  at::Tensor grid_h, grid_w;
  if (o.sampling_ratio > 0) {
    grid_h = at::full({rois.size(0)}, o.sampling_ratio, at::kLong);
    grid_w = grid_h;
  } else {
    grid_h = at::ceil(roi_h / ph).to(at::kLong).clamp_min(0).cpu();
    grid_w = at::ceil(roi_w / pw).to(at::kLong).clamp_min(0).cpu();
  }
  const at::Tensor batch = boxes.select(1, 0).to(at::kLong);
  const at::Tensor values = input.permute({1, 0, 2, 3}).reshape({channels, -1});

  // RoIs with the same sample grid are computed together, a chunk at a time to bound memory.
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> groups;
  const int64_t* gh = grid_h.contiguous().data_ptr<int64_t>();
  const int64_t* gw = grid_w.contiguous().data_ptr<int64_t>();
  for (int64_t i = 0; i < rois.size(0); ++i) groups[{gh[i], gw[i]}].push_back(i);
  std::vector<at::Tensor> pieces, piece_index;
  for (const auto& [grid, members] : groups) {
    const auto [grid_y, grid_x] = grid;
    if (grid_y == 0 || grid_x == 0) continue;  // no samples: the output stays 0 (count clamps to 1)
    const int64_t chunk =
        std::max<int64_t>(1, (int64_t(1) << 24) / (channels * ph * pw * grid_y * grid_x * 4));
    for (std::size_t begin = 0; begin < members.size(); begin += chunk) {
      const std::vector<int64_t> part(
          members.begin() + begin,
          members.begin() + std::min<std::size_t>(members.size(), begin + chunk));
      const at::Tensor idx = at::tensor(part, at::kLong).to(input.device());
      const at::Tensor y =
          sample_coordinates(start_h.index_select(0, idx), bin_h.index_select(0, idx), ph, grid_y);
      const at::Tensor x =
          sample_coordinates(start_w.index_select(0, idx), bin_w.index_select(0, idx), pw, grid_x);
      const at::Tensor samples = bilinear(values, batch.index_select(0, idx), y, x, height, width);
      // [n, C, ph * gy, pw * gx] -> mean over each bin's grid
      const at::Tensor pooled =
          samples.view({idx.size(0), channels, ph, grid_y, pw, grid_x}).sum({3, 5}) /
          static_cast<double>(grid_y * grid_x);
      pieces.push_back(pooled);
      piece_index.push_back(idx);
    }
  }
  if (pieces.empty()) return output;
  return output.index_put({at::cat(piece_index)}, at::cat(pieces));
}

}  // namespace mrcnn::ops::aten
