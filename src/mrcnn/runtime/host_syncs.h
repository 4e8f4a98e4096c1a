// Counts how often the host waits for a CUDA device. On a GPU each wait (a value read with
// item(), a copy to host memory, nonzero, NMS reading its overlap masks) drains the device's
// queue, so training reports the count per step: it should stay at the few waits that
// sampling, NMS and the logged losses need. Built on CUDA's sync debug mode, which raises a
// warning at every wait: the counter takes those warnings on its thread (autograd replays
// the warnings of its threads there) and passes every other warning on.
#pragma once

#include <cstdint>
#include <memory>

namespace mrcnn::runtime {

class HostSyncCounter {
 public:
  HostSyncCounter();   // counting starts
  ~HostSyncCounter();  // the previous debug mode and warning handler are restored
  HostSyncCounter(const HostSyncCounter&) = delete;
  HostSyncCounter& operator=(const HostSyncCounter&) = delete;

  int64_t count() const;
  // False in builds without our CUDA code, where nothing is counted.
  static bool available();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

namespace detail {
// Sets CUDA's sync debug mode (0 off, 1 warn, 2 error) and returns the one it replaces.
// Defined with the CUDA code; without it, does nothing and returns 0.
int exchange_cuda_sync_debug_mode(int mode);
}  // namespace detail

}  // namespace mrcnn::runtime
