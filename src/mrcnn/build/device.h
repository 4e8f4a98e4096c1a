// Which device a command runs on. One rule for every command and the C++ API:
//   the explicit choice (--device), else the config's `device`, else its PaddleDetection flags
//   (use_gpu -> cuda, use_xpu -> xpu, use_mlu -> mlu, use_npu -> npu), else cpu.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

#include "mrcnn/config/config.h"

namespace mrcnn::build {

// The device string chosen by the rule above (not yet checked for availability).
std::string requested_device(const config::Config& config, const std::string& explicit_device);

// The chosen device, checked to be here; on CUDA the config's cudnn_benchmark is applied.
c10::Device select_device(const config::Config& config, const std::string& explicit_device);

// The config's amp_dtype on `device`, asking a vendor backend whether it computes in fp16.
at::ScalarType select_amp_dtype(const config::Config& config, const c10::Device& device);

}  // namespace mrcnn::build
