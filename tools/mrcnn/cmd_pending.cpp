// Subcommands whose options are settled but whose work is still to be written. They parse
// their arguments, check the config and device they would use, then say so and exit 2.
#include <memory>

#include "commands.h"
#include "common_options.h"

namespace mrcnn::cli {
namespace {

struct PendingOptions {
  ConfigOptions config;
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
  add_config_driven(app, exit_code, "bench", "Time the model's training and inference steps",
                    [](CLI::App&, PendingOptions&) {});
}

}  // namespace mrcnn::cli
