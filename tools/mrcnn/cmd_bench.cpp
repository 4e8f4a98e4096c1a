// `mrcnn bench -c CFG [--weights W] --images F... [--repeat N] [--warmup N] [--amp]`: inference
// speed of what eval does per image (prediction, masks pasted, thresholded and RLE-encoded).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/build/bench_job.h"

namespace mrcnn::cli {

void add_bench_command(CLI::App& app, int& exit_code) {
  auto* command =
      app.add_subcommand("bench", "Time inference on images (batch 1, masks pasted and encoded)");
  auto config = std::make_shared<ConfigOptions>();
  auto job = std::make_shared<build::BenchJobOptions>();
  add_config_options(*command, *config);
  command->add_option("--weights", job->weights, "weights file (default: the config's `weights`)");
  command->add_option("--images", job->images, "image files")->required();
  command->add_option("--repeat", job->repeat, "timed passes over the images")->default_val(3);
  command->add_option("--warmup", job->warmup, "untimed passes first")->default_val(1);
  command->add_flag("--amp", job->amp, "mixed precision (the config's amp_dtype)");
  command->callback([&exit_code, config, job] {
    job->device = config->device;
    const build::BenchResult r = build::run_bench_job(load_config(*config), *job);
    std::cout << fmt::format(
        "{{\"seconds_per_image\": {}, \"images_per_second\": {}, \"detections\": {}, "
        "\"threads\": {}, \"peak_rss_mib\": {:.1f}, \"device\": \"{}\"}}\n",
        r.seconds_per_image, 1.0 / r.seconds_per_image, r.detections, r.threads, r.peak_rss_mib,
        r.device);
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
