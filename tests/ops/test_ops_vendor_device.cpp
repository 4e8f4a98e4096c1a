// The ops on a vendor device (the simulated "mlu" backend loaded as a plugin): they take their
// plain-ATen paths there and agree with the CPU kernels, and our CPU kernels refuse the
// device's tensors instead of reading their memory.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/DeviceType.h>

#include <string>

#include "mrcnn/ops/cpu/kernels.h"
#include "mrcnn/ops/nms.h"
#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/ops/roi_align.h"

namespace mrcnn::ops {
namespace {

class VendorDevice : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NE(dlopen(MRCNN_SIM_DEVICE_LIB, RTLD_NOW | RTLD_GLOBAL), nullptr) << dlerror();
    ASSERT_EQ(c10::get_privateuse1_backend(), "mlu");
  }
  const c10::Device mlu{"mlu:0"};
};

at::Tensor random_rois(int64_t count, int64_t images, double size, uint64_t seed) {
  const at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor xy = at::rand({count, 2}, g) * size * 0.7;
  const at::Tensor wh = at::rand({count, 2}, g) * size * 0.5 + 1;
  const at::Tensor batch = at::randint(images, {count, 1}, g).to(at::kFloat);
  return at::cat({batch, xy, xy + wh}, 1);
}

TEST_F(VendorDevice, RoIAlignForwardAndBackwardAgreeWithTheCpuKernel) {
  const at::Generator g = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor input = at::randn({2, 4, 20, 24}, g);
  const at::Tensor rois = random_rois(30, 2, 20, 8);
  const RoIAlignOptions o{.pooled_height = 7,
                          .pooled_width = 7,
                          .spatial_scale = 0.5,
                          .sampling_ratio = 0,
                          .aligned = true};
  const at::Tensor on_cpu_input = input.clone().requires_grad_();
  const at::Tensor on_device_input = input.to(mlu).requires_grad_();
  const at::Tensor cpu = roi_align(on_cpu_input, rois, o);
  const at::Tensor device = roi_align(on_device_input, rois.to(mlu), o);
  ASSERT_EQ(device.device(), mlu);
  EXPECT_TRUE(at::allclose(device.cpu(), cpu, 1e-5, 1e-5));
  const at::Tensor upstream = at::randn(cpu.sizes(), g);
  cpu.backward(upstream);
  device.backward(upstream.to(mlu));
  ASSERT_EQ(on_device_input.grad().device(), mlu);
  EXPECT_TRUE(at::allclose(on_device_input.grad().cpu(), on_cpu_input.grad(), 1e-5, 1e-5));
}

TEST_F(VendorDevice, NmsAndPastingAgreeWithTheCpu) {
  const at::Tensor rois = random_rois(200, 1, 100, 9);
  const at::Tensor boxes = rois.narrow(1, 1, 4).contiguous();
  const at::Tensor scores = at::rand({200}, at::make_generator<at::CPUGeneratorImpl>(10));
  EXPECT_TRUE(at::equal(nms(boxes.to(mlu), scores.to(mlu), 0.5).cpu(), nms(boxes, scores, 0.5)));

  const at::Tensor masks = at::rand({12, 1, 28, 28}, at::make_generator<at::CPUGeneratorImpl>(11));
  const at::Tensor pasted = boxes.narrow(0, 0, 12);
  const BinaryMasks cpu = paste_binary_masks(masks, pasted, 120, 130, 0.5);
  const BinaryMasks device = paste_binary_masks(masks.to(mlu), pasted.to(mlu), 120, 130, 0.5);
  EXPECT_TRUE(at::equal(cpu.bits, device.bits));
}

TEST_F(VendorDevice, OurCpuKernelsRefuseTheDevicesTensors) {
  const at::Tensor input = at::randn({1, 2, 8, 8}).to(mlu);
  const at::Tensor rois = at::tensor({0.f, 1.f, 1.f, 5.f, 5.f}).view({1, 5}).to(mlu);
  auto expect_refused = [](auto&& call, const std::string& kernel) {
    try {
      call();
      FAIL() << kernel << " accepted a tensor of mlu:0";
    } catch (const c10::Error& e) {
      const std::string message = e.what_without_backtrace();
      EXPECT_NE(message.find(kernel), std::string::npos) << message;
      EXPECT_NE(message.find("mlu:0"), std::string::npos) << message;
    }
  };
  expect_refused([&] { cpu::roi_align_forward(input, rois, {}); }, "cpu::roi_align_forward");
  expect_refused(
      [&] {
        cpu::roi_align_backward(at::zeros({1, 2, 7, 7}).to(mlu), rois, {}, {1, 2, 8, 8});
      },
      "cpu::roi_align_backward");
  const at::Tensor boxes = at::rand({5, 4}).to(mlu);
  expect_refused([&] { cpu::nms(boxes, at::rand({5}).to(mlu), 0.5); }, "cpu::nms");
  std::vector<uint8_t> out(64);
  expect_refused(
      [&] {
        cpu::paste_binary(at::rand({1, 28, 28}).to(mlu), {}, 0.5f, out.data());
      },
      "cpu::paste_binary");
}

}  // namespace
}  // namespace mrcnn::ops
