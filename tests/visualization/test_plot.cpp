// The training curves' plotter.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "mrcnn/visualization/plot.h"

namespace mrcnn::visualization {
namespace {

TEST(Plot, DrawsEverySeries) {
  const Panel panel{"losses", {{"a", {0, 1, 2}, {3, 2, 1}}, {"b", {0, 2}, {1, 1}}}};
  const at::Tensor image = plot_panels({panel, {"empty", {}}}, 400, 200);
  EXPECT_EQ(image.sizes(), (std::vector<int64_t>{400, 400, 3}));
  // Some pixels are neither white nor grey: the coloured lines.
  const at::Tensor top = image.slice(0, 0, 200).to(at::kInt);
  const at::Tensor spread = std::get<0>(top.max(2)) - std::get<0>(top.min(2));
  EXPECT_GT((spread > 60).sum().item<int64_t>(), 50);
}

}  // namespace
}  // namespace mrcnn::visualization
