// CUDA's sync debug mode for the host-sync counter (runtime/host_syncs.h); compiled only when
// the CUDA toolkit is found. Setting the mode needs no GPU.
#include <c10/cuda/CUDAFunctions.h>

#include "mrcnn/runtime/host_syncs.h"

namespace mrcnn::runtime {

bool HostSyncCounter::available() { return true; }

int detail::exchange_cuda_sync_debug_mode(int mode) {
  auto& state = c10::cuda::warning_state();
  const int previous = static_cast<int>(state.get_sync_debug_mode());
  state.set_sync_debug_mode(static_cast<c10::cuda::SyncDebugMode>(mode));
  return previous;
}

}  // namespace mrcnn::runtime
