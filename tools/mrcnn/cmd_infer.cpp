// `mrcnn infer -c CFG [--weights W] (--infer_img F | --infer_dir D) [--output_dir output]
//              [--draw_threshold 0.5] [--save_results]`
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/build/infer_job.h"

namespace mrcnn::cli {

void add_infer_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("infer", "Run a model on images and draw the results");
  auto config = std::make_shared<ConfigOptions>();
  auto job = std::make_shared<build::InferJobOptions>();
  add_config_options(*command, *config);
  command->add_option("--weights", job->weights, "weights file (default: the config's `weights`)");
  command->add_option("--infer_img", job->image, "one image");
  command->add_option("--infer_dir", job->image_dir,
                      "a folder of images (default: TestDataset's image_dir)");
  command->add_option("--output_dir", job->output_dir, "output folder")->default_val("output");
  command->add_option("--draw_threshold", job->draw_threshold, "score threshold for drawing")
      ->default_val(0.5);
  command->add_flag("--save_results", job->save_results,
                    "also write bbox.json and mask.json (COCO results)");
  command->callback([&exit_code, config, job] {
    job->device = config->device;
    const build::InferJobResult result =
        build::run_infer_job(load_config(*config), *job, console_output("infer"));
    if (!result.failed.empty()) {
      std::cerr << "error: " << result.failed.size() << " of "
                << result.failed.size() + static_cast<std::size_t>(result.images)
                << " images could not be read (listed above); the others' results are in "
                << job->output_dir << "\n";
      exit_code = 1;
      return;
    }
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
