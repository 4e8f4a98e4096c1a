// Device memory as the device's allocator counts it: the peaks of allocated (held by tensors)
// and reserved (held by the caching allocator) bytes. Any device whose allocator is a
// c10::DeviceAllocator reports them -- CUDA's caching allocator, XPU's, and vendor backends
// that implement the interface -- so the training log shows device memory, not only the host's.
#pragma once

#include <c10/core/Device.h>

#include <optional>

namespace mrcnn::runtime {

struct DeviceMemoryPeaks {
  double allocated_mib = 0;
  double reserved_mib = 0;
};

// The peaks since the previous call (or since the start), then resets them so that each call
// covers its own window. nullopt on the CPU and on devices whose allocator keeps no counts.
std::optional<DeviceMemoryPeaks> take_device_memory_peaks(const c10::Device& device);

}  // namespace mrcnn::runtime
