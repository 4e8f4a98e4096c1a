#include "mrcnn/visualization/plot.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mrcnn/visualization/draw.h"

namespace mrcnn::visualization {
namespace {

// Margins around a panel's plot area: tick labels on the left and below, title above, legend
// on the right.
constexpr int64_t kLeft = 64, kRight = 190, kTop = 38, kBottom = 40;
constexpr int kGlyphWidth = 6, kGlyphHeight = 10;  // draw_caption at scale 1
const Colour kWhite{255, 255, 255}, kAxis{90, 90, 90}, kGrid{228, 228, 228};

Colour series_colour(std::size_t k) { return category_colour(static_cast<int64_t>(k) + 1); }

Colour faded(Colour c, double keep) {
  Colour out{};
  for (int i = 0; i < 3; ++i) out[i] = static_cast<uint8_t>(std::lround(255 - (255 - c[i]) * keep));
  return out;
}

void fill(at::Tensor& image, double x0, double y0, double x1, double y1, Colour colour) {
  const int64_t h = image.size(0), w = image.size(1);
  uint8_t* data = image.data_ptr<uint8_t>();
  for (int64_t y = std::max<int64_t>(0, std::lround(y0)); y <= std::min(h - 1, std::lround(y1));
       ++y)
    for (int64_t x = std::max<int64_t>(0, std::lround(x0)); x <= std::min(w - 1, std::lround(x1));
         ++x) {
      uint8_t* p = data + (y * w + x) * 3;
      p[0] = colour[0], p[1] = colour[1], p[2] = colour[2];
    }
}

void thick_line(at::Tensor& image, double x0, double y0, double x1, double y1, Colour colour) {
  draw_line(image, x0, y0, x1, y1, colour);
  draw_line(image, x0, y0 + 1, x1, y1 + 1, colour);
  draw_line(image, x0 + 1, y0, x1 + 1, y1, colour);
}

int64_t text_width(const std::string& text) {
  return static_cast<int64_t>(text.size()) * kGlyphWidth + 1;
}

void text(at::Tensor& image, double x, double y, const std::string& words) {
  draw_caption(image, std::lround(x), std::lround(y), words, kWhite, 1);
}

// Enough decimals to tell neighbouring ticks apart, no more.
std::string tick_label(double value, double step) {
  if (value == 0) return "0";
  const double magnitude = std::abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return fmt::format("{:.0e}", value);
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return fmt::format("{:.{}f}", value, decimals);
}

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return !(low <= high); }
};

std::vector<double> smoothed(const std::vector<double>& y) {
  std::vector<double> out;
  double average = 0;
  bool started = false;
  for (double v : y) {
    if (std::isfinite(v)) {
      average = started ? 0.6 * average + 0.4 * v : v;
      started = true;
    }
    out.push_back(started ? average : v);
  }
  return out;
}

void draw_panel(at::Tensor& image, int64_t top, int64_t width, int64_t height, const Panel& panel) {
  text(image, kLeft, top + 4, panel.title);
  const auto usable = [&](double y) { return std::isfinite(y) && (!panel.log_y || y > 0); };
  Range xs, ys;
  for (const Series& s : panel.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.y[i]) || !std::isfinite(s.x[i])) continue;
      xs.add(s.x[i]);
      ys.add(s.y[i]);
    }
  }
  if (panel.x_range) xs = {panel.x_range->first, panel.x_range->second};
  if (panel.y_range) ys = {panel.y_range->first, panel.y_range->second};
  const double x0 = kLeft, x1 = static_cast<double>(width - kRight);
  const double y0 = static_cast<double>(top + height - kBottom),
               y1 = static_cast<double>(top + kTop);
  draw_line(image, x0, y0, x1, y0, kAxis);
  draw_line(image, x0, y0, x0, y1, kAxis);
  if (xs.empty() || ys.empty()) {
    text(image, (x0 + x1) / 2 - 30, (y0 + y1) / 2, "no data");
    return;
  }
  if (xs.high == xs.low) xs = {xs.low - 1, xs.high + 1};

  // The value axis: decades on a log scale, else nice steps with a little room.
  std::vector<double> y_ticks;
  double y_low, y_high;
  if (panel.log_y) {
    y_low = std::pow(10.0, std::floor(std::log10(ys.low)));
    y_high = std::pow(10.0, std::ceil(std::log10(ys.high)));
    if (y_high <= y_low) y_high = y_low * 10;
    y_ticks = log_ticks(y_low, y_high);
  } else {
    if (!panel.y_range) {
      const double pad =
          ys.high > ys.low ? 0.06 * (ys.high - ys.low) : std::max(std::abs(ys.high) * 0.1, 0.5);
      ys = {ys.low - pad, ys.high + pad};
      if (ys.low < 0 && ys.low + pad >= 0) ys.low = 0;  // a positive series keeps 0 as its floor
    }
    y_ticks = linear_ticks(ys.low, ys.high, 5);
    y_low = std::min(ys.low, y_ticks.front());
    y_high = std::max(ys.high, y_ticks.back());
  }
  const auto to_y_unit = [&](double v) {
    return panel.log_y
               ? (std::log10(v) - std::log10(y_low)) / (std::log10(y_high) - std::log10(y_low))
               : (v - y_low) / (y_high - y_low);
  };
  const auto px = [&](double x) { return x0 + (x - xs.low) / (xs.high - xs.low) * (x1 - x0); };
  const auto py = [&](double y) { return y0 - to_y_unit(y) * (y0 - y1); };

  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;
  for (double tick : y_ticks) {
    if (tick < y_low || tick > y_high) continue;
    const double y = py(tick);
    if (std::abs(y - y0) > 0.5) draw_line(image, x0 + 1, y, x1, y, kGrid);
    draw_line(image, x0 - 4, y, x0, y, kAxis);
    const std::string label = panel.log_y ? fmt::format("{:g}", tick) : tick_label(tick, y_step);
    text(image, x0 - 6 - static_cast<double>(text_width(label)), y - kGlyphHeight / 2.0, label);
  }
  std::vector<double> x_ticks = linear_ticks(xs.low, xs.high, 6);
  if (panel.integer_x && x_ticks.size() > 1 && x_ticks[1] - x_ticks[0] < 1) {
    x_ticks.clear();
    for (double t = std::ceil(xs.low); t <= xs.high; ++t) x_ticks.push_back(t);
  }
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1;
  for (double tick : x_ticks) {
    if (tick < xs.low - 1e-9 * std::abs(x_step) || tick > xs.high + 1e-9 * std::abs(x_step))
      continue;
    const double x = px(tick);
    if (std::abs(x - x0) > 0.5) draw_line(image, x, y0 - 1, x, y1, kGrid);
    draw_line(image, x, y0, x, y0 + 4, kAxis);
    const std::string label = tick_label(tick, x_step);
    text(image, x - static_cast<double>(text_width(label)) / 2, y0 + 7, label);
  }
  draw_line(image, x0, y0, x1, y0, kAxis);  // over the grid
  draw_line(image, x0, y0, x0, y1, kAxis);
  if (!panel.x_label.empty()) {
    text(image, (x0 + x1) / 2 - static_cast<double>(text_width(panel.x_label)) / 2, y0 + 22,
         panel.x_label);
  }
  if (!panel.y_label.empty()) {
    text(image, x0 + 4, y1 - 15, panel.y_label + (panel.log_y ? " (log scale)" : ""));
  }

  for (std::size_t k = 0; k < panel.series.size(); ++k) {
    const Series& s = panel.series[k];
    const Colour colour = series_colour(k);
    const std::size_t n = std::min(s.x.size(), s.y.size());
    if (s.smooth) {
      const Colour light = faded(colour, 0.35);
      for (std::size_t i = 0; i < n; ++i) {
        if (usable(s.y[i]))
          fill(image, px(s.x[i]) - 1, py(s.y[i]) - 1, px(s.x[i]) + 1, py(s.y[i]) + 1, light);
      }
    }
    const std::vector<double> line = s.smooth ? smoothed(s.y) : s.y;
    for (std::size_t i = 1; i < n; ++i) {
      if (usable(line[i - 1]) && usable(line[i]))
        thick_line(image, px(s.x[i - 1]), py(line[i - 1]), px(s.x[i]), py(line[i]), colour);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!usable(s.y[i])) continue;
      const double x = px(s.x[i]), y = py(s.y[i]);
      if (s.markers || n == 1) fill(image, x - 3, y - 3, x + 3, y + 3, colour);
      if (s.label_values) {
        const std::string value = fmt::format("{:.3f}", s.y[i]);
        // Even series above their points, odd ones below (so two close series do not write
        // over each other), kept inside the plot area.
        const bool above = k % 2 == 0 ? y - 16 >= y1 : y + 18 > y0;
        const double label_y = above ? y - 16 : y + 6;
        text(image, x - static_cast<double>(text_width(value)) / 2, label_y, value);
      }
    }
    // The legend, beside the plot area.
    const double legend_y = y1 + static_cast<double>(k) * 16;
    fill(image, x1 + 14, legend_y + 1, x1 + 24, legend_y + 9, colour);
    text(image, x1 + 28, legend_y, s.name + (s.smooth ? " (smoothed)" : ""));
  }
}

}  // namespace

std::vector<double> linear_ticks(double low, double high, int count) {
  if (!(high > low) || count < 1) return {low};
  const double raw = (high - low) / count;
  int exponent = static_cast<int>(std::floor(std::log10(raw)));
  int factor = 10;
  for (int f : {1, 2, 5}) {
    if (f * std::pow(10.0, exponent) >= raw) {
      factor = f;
      break;
    }
  }
  if (factor == 10) factor = 1, ++exponent;
  // Tick k is k * factor * 10^exponent, computed so that 0.6 is 6 / 10 (the double nearest
  // 0.6), not 3 * 0.2.
  const double scale = std::pow(10.0, std::abs(exponent));
  const auto tick = [&](int64_t k) {
    const auto units = static_cast<double>(k * factor);
    return exponent < 0 ? units / scale : units * scale;
  };
  const double step = tick(1);
  std::vector<double> ticks;
  for (auto k = static_cast<int64_t>(std::ceil(low / step - 1e-9)); tick(k) <= high + step * 1e-9;
       ++k) {
    ticks.push_back(tick(k));
  }
  return ticks;
}

std::vector<double> log_ticks(double low, double high) {
  std::vector<double> ticks;
  const int first = static_cast<int>(std::floor(std::log10(low) + 1e-9));
  const int last = static_cast<int>(std::ceil(std::log10(high) - 1e-9));
  const bool few_decades = last - first <= 2;
  for (int e = first; e <= last; ++e) {
    for (double m : few_decades ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      const double t = m * std::pow(10.0, e);
      if (t >= low * (1 - 1e-9) && t <= high * (1 + 1e-9)) ticks.push_back(t);
    }
  }
  return ticks;
}

at::Tensor plot_panels(const std::vector<Panel>& panels, int64_t width, int64_t panel_height) {
  at::Tensor image =
      at::full({static_cast<int64_t>(panels.size()) * panel_height, width, 3}, 255, at::kByte);
  for (std::size_t p = 0; p < panels.size(); ++p)
    draw_panel(image, static_cast<int64_t>(p) * panel_height, width, panel_height, panels[p]);
  return image;
}

at::Tensor plot_bars(const std::string& title, const std::vector<Bar>& bars, int64_t width,
                     double max_value) {
  constexpr int64_t kRow = 16, kHead = 34, kFoot = 34;
  int64_t label_width = 40;
  for (const Bar& bar : bars) label_width = std::max(label_width, text_width(bar.label) + 8);
  const int64_t height = kHead + kFoot + static_cast<int64_t>(bars.size()) * kRow;
  at::Tensor image = at::full({height, width, 3}, 255, at::kByte);
  text(image, 8, 8, title);
  const double x0 = static_cast<double>(label_width), x1 = static_cast<double>(width - 60);
  const double top = kHead, bottom = static_cast<double>(height - kFoot);
  if (!(max_value > 0)) max_value = 1;
  const std::vector<double> ticks = linear_ticks(0, max_value, 5);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : max_value;
  const auto px = [&](double v) { return x0 + v / max_value * (x1 - x0); };
  for (double tick : ticks) {
    if (tick > max_value * (1 + 1e-9)) continue;
    draw_line(image, px(tick), top - 2, px(tick), bottom, tick == 0 ? kAxis : kGrid);
    const std::string label = tick_label(tick, step);
    text(image, px(tick) - static_cast<double>(text_width(label)) / 2, bottom + 6, label);
  }
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const double y = top + static_cast<double>(i) * kRow;
    const Bar& bar = bars[i];
    text(image, x0 - 4 - static_cast<double>(text_width(bar.label)), y + 3, bar.label);
    if (!std::isfinite(bar.value)) {
      text(image, x0 + 4, y + 3, "no ground truth");
      continue;
    }
    fill(image, x0 + 1, y + 3, std::max(x0 + 1, px(std::min(bar.value, max_value))), y + kRow - 3,
         series_colour(0));
    text(image, px(std::min(bar.value, max_value)) + 4, y + 3, fmt::format("{:.3f}", bar.value));
  }
  return image;
}

}  // namespace mrcnn::visualization
