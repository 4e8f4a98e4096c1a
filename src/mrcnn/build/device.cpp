#include "mrcnn/build/device.h"

#include <ATen/Context.h>

#include "mrcnn/runtime/backend_plugins.h"
#include "mrcnn/runtime/device.h"
#include "mrcnn/solver/amp.h"

namespace mrcnn::build {

std::string requested_device(const config::Config& config, const std::string& explicit_device) {
  if (!explicit_device.empty()) return explicit_device;
  if (!config.device.empty()) return config.device;
  if (config.use_gpu) return "cuda";
  if (config.use_xpu) return "xpu";
  if (config.use_mlu) return "mlu";
  if (config.use_npu) return "npu";
  return "cpu";
}

c10::Device select_device(const config::Config& config, const std::string& explicit_device) {
  const c10::Device device = runtime::resolve_device(requested_device(config, explicit_device));
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(config.cudnn_benchmark);
  return device;
}

at::ScalarType select_amp_dtype(const config::Config& config, const c10::Device& device) {
  return solver::amp_dtype(config.amp_dtype, device, runtime::backend_supports_float16());
}

}  // namespace mrcnn::build
