// Choosing the device a command runs on. One rule for every subcommand:
//   --device on the command line, else the config's `device`, else its PaddleDetection flags
//   (use_gpu -> cuda, use_xpu -> xpu, use_mlu -> mlu, use_npu -> npu), else cpu.
#pragma once

#include <c10/core/Device.h>

#include <string>

#include "mrcnn/config/config.h"

namespace mrcnn::engine {

// The device string chosen by the rule above (not yet checked for availability).
std::string requested_device(const config::Config& config, const std::string& command_line_device);

// Parses a device string ("cpu", "cuda", "cuda:1", "xpu", a renamed PrivateUse1 backend such as
// "npu" once its plugin is loaded, ...) and checks that such a device exists here.
// Throws mrcnn::Error with a message that says what to do otherwise.
c10::Device resolve_device(const std::string& spec);

}  // namespace mrcnn::engine
