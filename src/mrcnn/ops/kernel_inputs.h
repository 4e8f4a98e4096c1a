// Our kernels read raw pointers of one device type. A tensor of any other device (a vendor
// backend's memory, say) must never reach them, so each kernel checks its inputs first and
// names itself: a clear error instead of reading memory the kernel cannot interpret.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

namespace mrcnn::ops {

inline void require_device_type(const at::Tensor& t, c10::DeviceType type, const char* kernel) {
  TORCH_CHECK(t.device().type() == type, kernel, ": our ", c10::DeviceTypeName(type, true),
              " kernel was given a tensor on ", t.device(),
              "; tensors of other devices take the plain-ATen path");
}

}  // namespace mrcnn::ops
