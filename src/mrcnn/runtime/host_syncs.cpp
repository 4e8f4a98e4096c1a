#include "mrcnn/runtime/host_syncs.h"

#include <c10/util/Exception.h>

#include <string_view>

namespace mrcnn::runtime {
namespace {

// The text of CUDA's sync debug warning (c10::cuda::warn_or_error_on_sync).
constexpr std::string_view kSyncWarning = "synchronizing CUDA operation";

class CountingHandler : public c10::WarningHandler {
 public:
  explicit CountingHandler(c10::WarningHandler* next) : next_(next) {}
  void process(const c10::Warning& warning) override {
    if (warning.msg().find(kSyncWarning) != std::string::npos) {
      ++count_;
    } else {
      next_->process(warning);
    }
  }
  int64_t count() const { return count_; }

 private:
  c10::WarningHandler* next_;
  int64_t count_ = 0;
};

}  // namespace

struct HostSyncCounter::State {
  CountingHandler handler{c10::WarningUtils::get_warning_handler()};
  c10::WarningUtils::WarningHandlerGuard guard{&handler};
  int previous_mode = detail::exchange_cuda_sync_debug_mode(1);
};

HostSyncCounter::HostSyncCounter() : state_(std::make_unique<State>()) {}

HostSyncCounter::~HostSyncCounter() {
  detail::exchange_cuda_sync_debug_mode(state_->previous_mode);
}

int64_t HostSyncCounter::count() const { return state_->handler.count(); }

#ifndef MRCNN_WITH_CUDA
bool HostSyncCounter::available() { return false; }
int detail::exchange_cuda_sync_debug_mode(int) { return 0; }
#endif

}  // namespace mrcnn::runtime
