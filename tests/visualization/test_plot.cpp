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

TEST(Plot, LinearTicksAreNiceSteps) {
  EXPECT_EQ(linear_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(linear_ticks(3, 47, 5), (std::vector<double>{10, 20, 30, 40}));
  const std::vector<double> small = linear_ticks(-0.013, 0.021, 4);
  EXPECT_EQ(small.front(), -0.01);
  EXPECT_EQ(small[1], 0.0);  // exactly zero, not 1e-18
}

TEST(Plot, LogTicksAreDecadesWithTwosAndFivesOverAShortRange) {
  EXPECT_EQ(log_ticks(0.001, 10), (std::vector<double>{0.001, 0.01, 0.1, 1, 10}));
  const std::vector<double> short_range = log_ticks(0.1, 10);
  EXPECT_EQ(short_range.size(), 7u);  // 0.1 0.2 0.5 1 2 5 10
  EXPECT_DOUBLE_EQ(short_range[1], 0.2);
}

TEST(Plot, ALogPanelLeavesOutValuesItCannotShowAndBarsHaveARowEach) {
  Panel panel{.title = "losses", .log_y = true};
  panel.series.push_back(
      {.name = "loss", .x = {1, 2, 3, 4}, .y = {1.0, 0.0, -1.0, 0.01}, .smooth = true});
  const at::Tensor image = plot_panels({panel}, 500, 300);
  EXPECT_EQ(image.sizes(), (std::vector<int64_t>{300, 500, 3}));
  const at::Tensor bars = plot_bars("AP", {{"a", 0.5}, {"b", NAN}, {"c", 1.0}}, 400, 1.0);
  EXPECT_EQ(bars.size(0), 34 + 34 + 3 * 16);
  EXPECT_EQ(bars.size(1), 400);
}

}  // namespace
}  // namespace mrcnn::visualization
