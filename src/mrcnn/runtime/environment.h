// What `mrcnn env` reports: versions, visible devices, threads and build options.
#pragma once

#include <string>
#include <vector>

namespace mrcnn::runtime {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int major = 0;
  int minor = 0;
  double memory_gib = 0.0;
};

// Only meaningful in builds with our CUDA code (MRCNN_WITH_CUDA); empty otherwise.
std::vector<CudaDeviceInfo> cuda_devices();

std::string describe_environment();

}  // namespace mrcnn::runtime
