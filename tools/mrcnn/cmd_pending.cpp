// Subcommands whose options are settled but whose work is still to be written. They parse
// their arguments, check the config and device they would use, then say so and exit 2.
#include <memory>

#include "commands.h"
#include "common_options.h"

namespace mrcnn::cli {
namespace {

struct PendingOptions {
  ConfigOptions config;
  std::string device;
  std::string weights, output;
  std::string infer_img, infer_dir;
  double draw_threshold = 0.5;
  bool classwise = false, json_eval = false, save_results = false;
};

// Config-driven commands validate their config and device before admitting they are pending,
// so a user learns about a typo in the config today rather than later.
void add_config_driven(CLI::App& app, int& exit_code, const char* name, const char* help,
                       const std::function<void(CLI::App&, PendingOptions&)>& extra) {
  auto* command = app.add_subcommand(name, help);
  auto options = std::make_shared<PendingOptions>();
  add_config_options(*command, options->config);
  extra(*command, *options);
  const std::string command_name = name;
  command->callback([&exit_code, options, command_name] {
    const config::Config cfg = load_config(options->config);
    (void)select_device(options->config, cfg);
    exit_code = not_implemented(command_name);
  });
}

}  // namespace

void add_pending_commands(CLI::App& app, int& exit_code) {
  add_config_driven(
      app, exit_code, "infer", "Run a model on images and draw the results",
      [](CLI::App& c, PendingOptions& o) {
        c.add_option("--weights", o.weights, "weights file");
        c.add_option("--infer_img", o.infer_img, "one image");
        c.add_option("--infer_dir", o.infer_dir, "a folder of images");
        c.add_option("--output_dir", o.output, "output folder")->default_val("output");
        c.add_option("--draw_threshold", o.draw_threshold, "score threshold for drawing")
            ->default_val(0.5);
        c.add_flag("--save_results", o.save_results, "also write COCO results json");
      });
  add_config_driven(app, exit_code, "bench", "Time the model's training and inference steps",
                    [](CLI::App&, PendingOptions&) {});
}

}  // namespace mrcnn::cli
