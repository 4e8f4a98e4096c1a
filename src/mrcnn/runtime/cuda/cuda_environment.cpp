// CUDA device details for `mrcnn env`; compiled only when the CUDA toolkit is found.
#include <ATen/cuda/CUDAContext.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "mrcnn/runtime/environment.h"

namespace mrcnn::runtime {

std::vector<CudaDeviceInfo> cuda_devices() {
  std::vector<CudaDeviceInfo> devices;
  const int count = at::detail::getCUDAHooks().getNumGPUs();
  for (int i = 0; i < count; ++i) {
    const cudaDeviceProp* props = at::cuda::getDeviceProperties(i);
    devices.push_back(CudaDeviceInfo{.index = i,
                                     .name = props->name,
                                     .major = props->major,
                                     .minor = props->minor,
                                     .memory_gib = double(props->totalGlobalMem) / (1 << 30)});
  }
  return devices;
}

}  // namespace mrcnn::runtime
