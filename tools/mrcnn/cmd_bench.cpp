// `mrcnn bench -c CFG [--weights W] --images F... [--repeat N] [--warmup N]`: inference speed.
#include <sys/resource.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "model_setup.h"
#include "mrcnn/io/image.h"

namespace mrcnn::cli {
namespace {

struct BenchOptions {
  ConfigOptions config;
  std::string weights;
  std::vector<std::string> images;
  int repeat = 3;
  int warmup = 1;
};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

int run_bench(const BenchOptions& o) {
  const config::Config cfg = load_config(o.config);
  const c10::Device device = select_device(o.config, cfg);
  auto model = load_model(cfg, resolve_weights_path(o.weights, cfg), device);
  std::vector<at::Tensor> inputs;
  for (const auto& path : o.images) {
    inputs.push_back(
        io::decode_image_file(path).to(device).permute({2, 0, 1}).to(at::kFloat).div(255));
  }
  auto run_all = [&] {
    int64_t detections = 0;
    for (const auto& input : inputs) detections += model->predict({input})[0].scores.size(0);
    return detections;
  };
  for (int i = 0; i < o.warmup; ++i) run_all();
  int64_t detections = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.repeat; ++i) detections = run_all();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double per_image = seconds / (o.repeat * static_cast<double>(inputs.size()));
  std::cout << fmt::format(
      "{{\"seconds_per_image\": {}, \"images_per_second\": {}, \"detections\": {}, \"threads\": "
      "{}, "
      "\"peak_rss_mib\": {:.1f}}}\n",
      per_image, 1.0 / per_image, detections, at::get_num_threads(), peak_rss_mib());
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto* command =
      app.add_subcommand("bench", "Time inference on images (batch 1, masks pasted and encoded)");
  auto options = std::make_shared<BenchOptions>();
  add_config_options(*command, options->config);
  command->add_option("--weights", options->weights,
                      "weights file (default: the config's `weights`)");
  command->add_option("--images", options->images, "image files")->required();
  command->add_option("--repeat", options->repeat, "timed passes over the images")->default_val(3);
  command->add_option("--warmup", options->warmup, "untimed passes first")->default_val(1);
  command->callback([&exit_code, options] { exit_code = run_bench(*options); });
}

}  // namespace mrcnn::cli
