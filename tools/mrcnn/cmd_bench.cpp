// `mrcnn bench -c CFG [--weights W] --images F... [--repeat N] [--warmup N] [--amp]`: inference
// speed of what eval does per image (prediction, masks pasted, thresholded and RLE-encoded).
#include <sys/resource.h>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "model_setup.h"
#include "mrcnn/engine/amp.h"
#include "mrcnn/evaluation/evaluator.h"
#include "mrcnn/io/image.h"

namespace mrcnn::cli {
namespace {

struct BenchOptions {
  ConfigOptions config;
  std::string weights;
  std::vector<std::string> images;
  int repeat = 3;
  int warmup = 1;
  bool amp = false;
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
  const evaluation::LabelMapping labels =
      evaluation::label_mapping(cfg, evaluation::inference_categories(cfg));
  std::vector<at::Tensor> images;
  for (const auto& path : o.images) images.push_back(io::decode_image_file(path));
  // What eval does per image: predict, paste each mask into the image, threshold, RLE-encode.
  auto run_all = [&] {
    engine::AutocastScope autocast(device.type(), engine::amp_dtype(cfg.amp_dtype, device), o.amp);
    int64_t detections = 0;
    for (const auto& image : images) {
      detections += static_cast<int64_t>(
          evaluation::detect(model, image, device, labels, cfg.mask_post_process.binary_thresh, 0)
              .scores.size());
    }
    return detections;
  };
  for (int i = 0; i < o.warmup; ++i) run_all();
  int64_t detections = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.repeat; ++i) detections = run_all();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double per_image = seconds / (o.repeat * static_cast<double>(images.size()));
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
  command->add_flag("--amp", options->amp, "mixed precision (the config's amp_dtype)");
  command->callback([&exit_code, options] { exit_code = run_bench(*options); });
}

}  // namespace mrcnn::cli
