// Options shared by the subcommands that run a model: the config (-c, -o) and the device.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "mrcnn/build/job_output.h"
#include "mrcnn/config/config.h"
#include "progress.h"

namespace mrcnn::cli {

struct ConfigOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string device;
};

void add_config_options(CLI::App& command, ConfigOptions& options);
void add_device_option(CLI::App& command, std::string& device);

config::Config load_config(const ConfigOptions& options);

// stdout for results, stderr for notes, and a progress bar named `what` on stderr.
build::JobOutput console_output(const std::string& what);

}  // namespace mrcnn::cli
