// The host-sync counter on the CPU: CUDA's sync warning is raised by calling the function the
// CUDA runtime wrappers call at each wait, which needs no GPU.
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <string>
#include <vector>

#include "mrcnn/runtime/host_syncs.h"

#ifdef MRCNN_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace mrcnn::runtime {
namespace {

class RecordingHandler : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override { messages.push_back(warning.msg()); }
  std::vector<std::string> messages;
};

#ifdef MRCNN_WITH_CUDA
TEST(HostSyncCounter, CountsCudaWaitsAndPassesOtherWarningsOn) {
  ASSERT_TRUE(HostSyncCounter::available());
  RecordingHandler outer;
  const c10::WarningUtils::WarningHandlerGuard guard(&outer);
  {
    const HostSyncCounter counter;
    for (int i = 0; i < 3; ++i) c10::cuda::warn_or_error_on_sync();
    TORCH_WARN("an unrelated warning");
    EXPECT_EQ(counter.count(), 3);
  }
  ASSERT_EQ(outer.messages.size(), 1u);
  EXPECT_NE(outer.messages[0].find("an unrelated warning"), std::string::npos);
  // Counting over: the debug mode is off again, a wait raises nothing.
  c10::cuda::warn_or_error_on_sync();
  EXPECT_EQ(outer.messages.size(), 1u);
}

TEST(HostSyncCounter, RestoresTheModeItReplaced) {
  ASSERT_EQ(detail::exchange_cuda_sync_debug_mode(2), 0);  // "error": a wait throws
  {
    const HostSyncCounter counter;
    EXPECT_NO_THROW(c10::cuda::warn_or_error_on_sync());
    EXPECT_EQ(counter.count(), 1);
  }
  EXPECT_THROW(c10::cuda::warn_or_error_on_sync(), c10::Error);
  EXPECT_EQ(detail::exchange_cuda_sync_debug_mode(0), 2);
}
#endif

TEST(HostSyncCounter, LeavesOtherWarningsAlone) {
  RecordingHandler outer;
  const c10::WarningUtils::WarningHandlerGuard guard(&outer);
  {
    const HostSyncCounter counter;
    TORCH_WARN("first");
    TORCH_WARN("second");
    EXPECT_EQ(counter.count(), 0);
  }
  ASSERT_EQ(outer.messages.size(), 2u);
  EXPECT_NE(outer.messages[1].find("second"), std::string::npos);
}

}  // namespace
}  // namespace mrcnn::runtime
