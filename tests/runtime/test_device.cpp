// Devices: parsing device strings and checking that the device is here.
#include <gtest/gtest.h>

#include <ATen/detail/CUDAHooksInterface.h>

#include "mrcnn/common/error.h"
#include "mrcnn/runtime/device.h"
#include "mrcnn/runtime/device_memory.h"
#include "mrcnn/runtime/environment.h"

namespace mrcnn::runtime {
namespace {

TEST(ResolveDevice, CpuIsAlwaysThere) { EXPECT_EQ(resolve_device("cpu"), c10::Device(c10::kCPU)); }

TEST(ResolveDevice, UnknownTypeIsAClearError) {
  try {
    resolve_device("tpu7");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown device 'tpu7'"), std::string::npos) << e.what();
  }
  // Without its vendor plugin loaded, LibTorch does not know "npu".
  EXPECT_THROW(resolve_device("npu"), Error);
}

TEST(ResolveDevice, MissingCudaDeviceIsAClearError) {
  const int count = at::detail::getCUDAHooks().getNumGPUs();
  const std::string beyond = "cuda:" + std::to_string(count);
  try {
    resolve_device(beyond);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(beyond), std::string::npos) << message;
    if (count == 0) {
      EXPECT_NE(message.find("no CUDA device"), std::string::npos) << message;
    }
  }
  if (count > 0) {
    EXPECT_EQ(resolve_device("cuda:0"), c10::Device("cuda:0"));
  }
}

TEST(ResolveDevice, UnavailableKnownBackendIsAClearError) {
  // XPU is a device type every LibTorch knows; these builds have no XPU runtime.
  if (at::hasXPU()) GTEST_SKIP() << "this machine has an XPU";
  try {
    resolve_device("xpu");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("device 'xpu' is not available"), std::string::npos)
        << e.what();
  }
}

TEST(Environment, ReportsVersionsDevicesAndBuild) {
  const std::string text = describe_environment();
  EXPECT_NE(text.find("mrcnn "), std::string::npos) << text;
  EXPECT_NE(text.find("LibTorch     2."), std::string::npos) << text;
  EXPECT_NE(text.find("devices      cpu"), std::string::npos) << text;
  EXPECT_NE(text.find("threads"), std::string::npos) << text;
  EXPECT_NE(text.find("precompiled header"), std::string::npos) << text;
}

TEST(DeviceMemory, TheCpuReportsNoDeviceMemory) {
  // The host's memory is logged apart; a CPU run has no device allocator to ask.
  EXPECT_FALSE(take_device_memory_peaks(c10::Device(c10::kCPU)).has_value());
}

}  // namespace
}  // namespace mrcnn::runtime
