// SIGTERM and SIGINT as a request to stop a server gracefully (what an orchestrator sends
// before it kills): the handler only raises a flag, and a watcher thread does the stopping,
// since almost nothing may be done inside a signal handler.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace mrcnn::serving {

class StopOnSignals {
 public:
  // Calls `stop` once, from a thread of its own, when SIGTERM or SIGINT arrives.
  explicit StopOnSignals(std::function<void()> stop);
  ~StopOnSignals();  // restores the previous handlers
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  // The signal that arrived (0: none yet).
  int received() const;

 private:
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace mrcnn::serving
