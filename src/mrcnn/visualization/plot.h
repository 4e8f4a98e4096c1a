// Charts for people to read, drawn without a plotting library: line charts with numbered
// axes (linear or log), grid lines, smoothed lines over faint raw points, markers with their
// values, and a legend beside the plot area (never over the data); and horizontal bar charts.
// Used for training_curves.png and for `eval --visualize` (per-class AP, precision-recall).
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mrcnn::visualization {

struct Series {
  std::string name;
  std::vector<double> x, y;
  // Raw points drawn faint, and an exponential moving average (TensorBoard's smoothing 0.6)
  // as the line: for noisy losses.
  bool smooth = false;
  bool markers = false;       // a dot at each point
  bool label_values = false;  // each point's value written beside it
};

struct Panel {
  std::string title;
  std::vector<Series> series;
  std::string x_label, y_label;
  bool log_y = false;                                // values <= 0 are left out
  std::optional<std::pair<double, double>> y_range;  // fixed, e.g. {0, 1} for precision
  std::optional<std::pair<double, double>> x_range;
  bool integer_x = false;  // x ticks at whole numbers only (epochs)
};

// uint8 [panels * panel_height, width, 3] RGB picture, panels stacked.
at::Tensor plot_panels(const std::vector<Panel>& panels, int64_t width, int64_t panel_height);

struct Bar {
  std::string label;
  double value = 0;  // NaN: no data, shown as such
};

// One row per bar, labels on the left, each bar's value at its end; the axis runs 0..max_value.
at::Tensor plot_bars(const std::string& title, const std::vector<Bar>& bars, int64_t width,
                     double max_value);

// Nice tick values covering [low, high]: about `count` steps of 1, 2 or 5 times a power of
// ten (linear), or the powers of ten with 2 and 5 between them when the range spans little.
std::vector<double> linear_ticks(double low, double high, int count);
std::vector<double> log_ticks(double low, double high);

}  // namespace mrcnn::visualization
