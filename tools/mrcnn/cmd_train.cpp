// `mrcnn train -c CONFIG [-o k=v ...] [--eval] [-r CKPT] [--amp] [--print-config]`
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/config/loader.h"

namespace mrcnn::cli {
namespace {

struct TrainOptions {
  ConfigOptions config;
  bool print_config = false;
  bool eval = false;
  std::string resume;
  bool amp = false;
};

int run_train(const TrainOptions& options) {
  const config::Config cfg = load_config(options.config);
  if (options.print_config) {
    std::cout << config::to_yaml(cfg);
    return 0;
  }
  const c10::Device device = select_device(options.config, cfg);
  std::cerr << "device: " << device.str() << "\n";
  return not_implemented("train");
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("train", "Train a model from a YAML config");
  auto options = std::make_shared<TrainOptions>();
  add_config_options(*command, options->config);
  command->add_flag("--print-config", options->print_config,
                    "print the merged config (bases, overrides and defaults) and exit");
  command->add_flag("--eval", options->eval, "evaluate at every snapshot and keep best_model");
  command->add_option("-r,--resume", options->resume, "checkpoint to resume from");
  command->add_flag("--amp", options->amp, "mixed precision training");
  command->callback([&exit_code, options] { exit_code = run_train(*options); });
}

}  // namespace mrcnn::cli
