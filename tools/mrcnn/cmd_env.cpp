// `mrcnn env`: versions, devices, threads and build options.
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/runtime/device.h"
#include "mrcnn/runtime/environment.h"

namespace mrcnn::cli {

void add_env_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("env", "Print versions, visible devices and build options");
  auto device = std::make_shared<std::string>();
  add_device_option(*command, *device);
  command->callback([&exit_code, device] {
    // Check the requested device first so that an error is not interleaved with the report.
    const std::string selected = device->empty() ? "" : runtime::resolve_device(*device).str();
    std::cout << runtime::describe_environment();
    if (!selected.empty()) std::cout << "selected     " << selected << "\n";
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
