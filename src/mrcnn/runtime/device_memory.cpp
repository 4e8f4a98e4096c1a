#include "mrcnn/runtime/device_memory.h"

#include <c10/core/CachingDeviceAllocator.h>

namespace mrcnn::runtime {

std::optional<DeviceMemoryPeaks> take_device_memory_peaks(const c10::Device& device) {
  if (device.is_cpu()) return std::nullopt;
  auto* allocator = dynamic_cast<c10::DeviceAllocator*>(c10::GetAllocator(device.type()));
  if (allocator == nullptr || !allocator->initialized()) return std::nullopt;
  const c10::DeviceIndex index = device.has_index() ? device.index() : 0;
  const c10::CachingDeviceAllocator::DeviceStats stats = allocator->getDeviceStats(index);
  constexpr auto kAll = static_cast<std::size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
  constexpr double kMiB = 1024.0 * 1024.0;
  const DeviceMemoryPeaks peaks{
      .allocated_mib = static_cast<double>(stats.allocated_bytes[kAll].peak) / kMiB,
      .reserved_mib = static_cast<double>(stats.reserved_bytes[kAll].peak) / kMiB};
  allocator->resetPeakStats(index);
  return peaks;
}

}  // namespace mrcnn::runtime
