// Line charts for the training curves (losses by iteration, AP by epoch), drawn without any
// plotting library: one panel per chart, stacked, each with its range and a legend.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace mrcnn::visualization {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
};

// uint8 [panels * panel_height, width, 3] RGB picture.
at::Tensor plot_panels(const std::vector<Panel>& panels, int64_t width, int64_t panel_height);

}  // namespace mrcnn::visualization
