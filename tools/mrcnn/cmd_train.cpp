// `mrcnn train -c CONFIG [-o k=v ...] [--eval] [-r CKPT | --auto_resume] [--amp] [--iters N]
//              [--print-config] [--use_tensorboard | --no_tensorboard] [--tb_log_dir DIR]`
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/build/train_job.h"
#include "mrcnn/config/loader.h"

namespace mrcnn::cli {
namespace {

struct TrainOptions {
  ConfigOptions config;
  bool print_config = false;
  build::TrainJobOptions job;
};

int run_train(TrainOptions& options) {
  const config::Config cfg = load_config(options.config);
  if (options.print_config) {
    std::cout << config::to_yaml(cfg);
    return 0;
  }
  options.job.device = options.config.device;
  build::run_train_job(cfg, options.job, console_output("eval"));
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("train", "Train a model from a YAML config");
  auto options = std::make_shared<TrainOptions>();
  add_config_options(*command, options->config);
  command->add_flag("--print-config", options->print_config,
                    "print the merged config (bases, overrides and defaults) and exit");
  command->add_flag("--eval", options->job.evaluate,
                    "evaluate at every snapshot and keep best_model");
  auto* resume = command->add_option("-r,--resume", options->job.resume,
                                     "checkpoint to resume from (output/<config>/N or .../last)");
  command
      ->add_flag("--auto_resume", options->job.auto_resume,
                 "continue from the newest checkpoint in the output folder, or start afresh if "
                 "there is none (always so when torchrun restarts the workers)")
      ->excludes(resume);
  command->add_flag("--amp", options->job.amp,
                    "mixed precision (amp_dtype: float16 with loss scaling on CUDA, bfloat16 "
                    "elsewhere)");
  command
      ->add_option("--iters", options->job.max_iterations,
                   "stop after this many iterations in all (smoke tests, benchmarks)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--use_tensorboard,!--no_tensorboard", options->job.tensorboard,
                    "TensorBoard events: scalars, AP tables, prediction pictures (on by default)");
  command->add_option("--tb_log_dir", options->job.tensorboard_dir,
                      "folder of the event file (default: <output folder>/tensorboard)");
  // PaddleDetection's VisualDL flags, so that its commands run unchanged: the same curves go
  // to the TensorBoard event file.
  command->add_flag("--use_vdl", options->job.tensorboard,
                    "PaddleDetection's flag: the same as --use_tensorboard");
  command->add_option("--vdl_log_dir", options->job.tensorboard_dir,
                      "PaddleDetection's flag: the same as --tb_log_dir");
  command->callback([&exit_code, options] { exit_code = run_train(*options); });
}

}  // namespace mrcnn::cli
