#include "mrcnn/visualization/plot.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mrcnn/visualization/draw.h"

namespace mrcnn::visualization {
namespace {

constexpr int64_t kLeft = 70, kRight = 170, kTop = 28, kBottom = 26;
const Colour kWhite{255, 255, 255}, kAxis{60, 60, 60}, kGrid{225, 225, 225};

void draw_panel(at::Tensor& image, int64_t top, int64_t width, int64_t height, const Panel& panel) {
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for (const auto& s : panel.series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x_min = std::min(x_min, s.x[i]);
      x_max = std::max(x_max, s.x[i]);
      y_min = std::min(y_min, s.y[i]);
      y_max = std::max(y_max, s.y[i]);
    }
  }
  draw_caption(image, kLeft, top + 4, panel.title, kWhite, 2);
  if (!std::isfinite(x_min)) return;
  y_min = std::min(y_min, 0.0);
  if (x_max == x_min) x_max = x_min + 1;
  if (y_max == y_min) y_max = y_min + 1;
  const double x0 = kLeft, x1 = width - kRight, y0 = top + height - kBottom, y1 = top + kTop;
  auto px = [&](double x) { return x0 + (x - x_min) / (x_max - x_min) * (x1 - x0); };
  auto py = [&](double y) { return y0 - (y - y_min) / (y_max - y_min) * (y0 - y1); };
  for (int k = 1; k < 4; ++k) {
    const double y = y0 + (y1 - y0) * k / 4;
    draw_line(image, x0, y, x1, y, kGrid);
  }
  draw_line(image, x0, y0, x1, y0, kAxis);
  draw_line(image, x0, y0, x0, y1, kAxis);
  draw_caption(image, 2, static_cast<int64_t>(y1) - 4, fmt::format("{:.3g}", y_max), kWhite, 1);
  draw_caption(image, 2, static_cast<int64_t>(y0) - 4, fmt::format("{:.3g}", y_min), kWhite, 1);
  draw_caption(image, static_cast<int64_t>(x0), static_cast<int64_t>(y0) + 4,
               fmt::format("{:.6g}", x_min), kWhite, 1);
  draw_caption(image, static_cast<int64_t>(x1) - 40, static_cast<int64_t>(y0) + 4,
               fmt::format("{:.6g}", x_max), kWhite, 1);
  for (std::size_t k = 0; k < panel.series.size(); ++k) {
    const Series& s = panel.series[k];
    const Colour colour = category_colour(static_cast<int64_t>(k) + 1);
    for (std::size_t i = 1; i < s.x.size(); ++i) {
      if (std::isfinite(s.y[i - 1]) && std::isfinite(s.y[i]))
        draw_line(image, px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), colour);
    }
    if (s.x.size() == 1)
      draw_line(image, px(s.x[0]) - 2, py(s.y[0]), px(s.x[0]) + 2, py(s.y[0]), colour);
    draw_caption(image, width - kRight + 10, top + kTop + static_cast<int64_t>(k) * 14, s.name,
                 colour, 1);
  }
}

}  // namespace

at::Tensor plot_panels(const std::vector<Panel>& panels, int64_t width, int64_t panel_height) {
  at::Tensor image =
      at::full({static_cast<int64_t>(panels.size()) * panel_height, width, 3}, 255, at::kByte);
  for (std::size_t p = 0; p < panels.size(); ++p)
    draw_panel(image, static_cast<int64_t>(p) * panel_height, width, panel_height, panels[p]);
  return image;
}

}  // namespace mrcnn::visualization
