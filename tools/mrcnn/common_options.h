// Options shared by the subcommands: the config (-c, -o) and the device (--device).
#pragma once

#include <c10/core/Device.h>
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "mrcnn/config/config.h"

namespace mrcnn::cli {

// Exit codes: 0 success, 1 bad input (config, files, device) or a failed run.
inline constexpr int kExitBadInput = 1;

struct ConfigOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string device;
};

void add_config_options(CLI::App& command, ConfigOptions& options);
void add_device_option(CLI::App& command, std::string& device);

config::Config load_config(const ConfigOptions& options);

// --device, else the config's device flags; checked for availability. On CUDA, applies the
// config's cudnn_benchmark. Prints nothing.
c10::Device select_device(const ConfigOptions& options, const config::Config& config);

}  // namespace mrcnn::cli
