// `mrcnn eval -c CFG [--weights W] [--output_eval DIR] [--classwise] [--json_eval]
//             [--visualize N] [--draw_threshold 0.5]`
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/build/eval_job.h"

namespace mrcnn::cli {

void add_eval_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "eval", "Evaluate a model on the config's EvalDataset (COCO bbox and segm)");
  auto config = std::make_shared<ConfigOptions>();
  auto job = std::make_shared<build::EvalJobOptions>();
  add_config_options(*command, *config);
  command->add_option("--weights", job->weights, "weights file (default: the config's `weights`)");
  command->add_option("--output_eval", job->output_dir,
                      "folder for bbox.json and mask.json (default: <save_dir>/<config name>)");
  command->add_flag("--classwise", job->classwise, "also per-category AP");
  command->add_flag("--json_eval", job->json_eval,
                    "score existing bbox.json / mask.json in --output_eval");
  command
      ->add_option("--visualize", job->visualize,
                   "pictures of N images (ground truth beside predictions), the per-category "
                   "AP chart and precision-recall curves, in <output_eval>/visualize")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--draw_threshold", job->draw_threshold,
                   "score threshold of the predictions in the pictures")
      ->default_val(0.5);
  command->callback([&exit_code, config, job] {
    job->device = config->device;
    build::run_eval_job(load_config(*config), *job, console_output("eval"));
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
