#include "mrcnn/runtime/device.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/detail/PrivateUse1HooksInterface.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/types.h>

#include "mrcnn/common/error.h"

namespace mrcnn::runtime {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

c10::Device parse_device(const std::string& spec) {
  try {
    return c10::Device(spec);
  } catch (const c10::Error& e) {
    throw Error("unknown device '" + spec +
                "': expected cpu, cuda, cuda:N or another device type this LibTorch knows. "
                "Vendor backends (e.g. for NPU or MLU) register their device name when their "
                "plugin library is loaded: list it in MRCNN_BACKEND_PLUGINS. (" +
                first_line(e.what_without_backtrace()) + ")");
  }
}

}  // namespace

c10::Device resolve_device(const std::string& spec) {
  const c10::Device device = parse_device(spec);
  if (device.is_cpu()) return device;

  if (device.is_cuda()) {
    const int count = at::detail::getCUDAHooks().getNumGPUs();
    if (count == 0) {
      throw Error("device '" + spec +
                  "' requested but no CUDA device is visible (no GPU, or no CUDA driver); "
                  "use --device cpu or -o use_gpu=false");
    }
    if (device.has_index() && device.index() >= count) {
      throw Error("device '" + spec + "' requested but only " + std::to_string(count) +
                  " CUDA device(s) are visible (cuda:0..cuda:" + std::to_string(count - 1) + ")");
    }
    return device;
  }

  // A vendor backend says how many devices it has through its hooks.
  if (const auto vendor = vendor_devices();
      vendor && device.type() == c10::DeviceType::PrivateUse1) {
    const int count = vendor->count;
    const std::string& name = vendor->name;
    if (count == 0)
      throw Error("device '" + spec + "' requested but no " + name + " device is visible");
    if (device.has_index() && device.index() >= count) {
      throw Error("device '" + spec + "' requested but only " + std::to_string(count) + " " + name +
                  " device(s) are visible (" + name + ":0.." + name + ":" +
                  std::to_string(count - 1) + ")");
    }
    // No probe: it would touch the device's first unit, which under a launcher is another
    // rank's (its own device is chosen after this).
    return device;
  }
  // Any other backend: the only reliable test is to ask it for memory.
  try {
    (void)at::empty({1}, at::TensorOptions().device(device));
  } catch (const c10::Error& e) {
    throw Error("device '" + spec +
                "' is not available here: " + first_line(e.what_without_backtrace()));
  }
  return device;
}

std::optional<VendorDevices> vendor_devices() {
  if (!c10::is_privateuse1_backend_registered() || !at::isPrivateUse1HooksRegistered())
    return std::nullopt;
  return VendorDevices{.name = c10::get_privateuse1_backend(),
                       .count = at::detail::getPrivateUse1Hooks().deviceCount()};
}

void set_current_device(const c10::Device& device) {
  if (device.is_cpu() || !device.has_index()) return;
  c10::impl::getDeviceGuardImpl(device.type())->setDevice(device);
}

}  // namespace mrcnn::runtime
