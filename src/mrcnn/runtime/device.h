// Devices: parsing a device string and checking that such a device is here (which device a
// command uses is the build layer's rule, build/device.h).
#pragma once

#include <c10/core/Device.h>

#include <optional>
#include <string>

namespace mrcnn::runtime {

// Parses a device string ("cpu", "cuda", "cuda:1", "xpu", a renamed PrivateUse1 backend such as
// "npu" once its plugin is loaded, ...) and checks that such a device exists here.
// Throws mrcnn::Error with a message that says what to do otherwise.
c10::Device resolve_device(const std::string& spec);

// The devices of a vendor backend loaded as a plugin (PrivateUse1 under its own name); nullopt
// when none is loaded or it has no hooks to count them.
struct VendorDevices {
  std::string name;
  int count = 0;
};
std::optional<VendorDevices> vendor_devices();

// Makes `device` the calling thread's current device of its type, so that tensors made without
// an explicit index (by LibTorch itself, or by a vendor backend's kernels) land on it.
void set_current_device(const c10::Device& device);

}  // namespace mrcnn::runtime
