#include "common_options.h"

#include <iostream>
#include <memory>

#include "mrcnn/config/loader.h"

namespace mrcnn::cli {

void add_device_option(CLI::App& command, std::string& device) {
  command.add_option("--device", device,
                     "cpu, cuda, cuda:N or another LibTorch device type; overrides the config's "
                     "use_gpu/use_xpu/use_mlu/use_npu");
}

void add_config_options(CLI::App& command, ConfigOptions& options) {
  command.add_option("-c,--config", options.config_path, "YAML config file")->required();
  command.add_option("-o,--opt", options.overrides,
                     "config overrides key=value (dotted keys for nested values), e.g. "
                     "-o use_gpu=true TrainReader.batch_size=2");
  add_device_option(command, options.device);
}

config::Config load_config(const ConfigOptions& options) {
  return config::load_config(options.config_path, options.overrides);
}

build::JobOutput console_output(const std::string& what) {
  build::JobOutput output{.out = &std::cout, .notes = &std::cerr};
  auto bar = std::make_shared<Progress>(what);
  output.progress = [bar](int64_t done, int64_t total) { bar->update(done, total); };
  return output;
}

}  // namespace mrcnn::cli
