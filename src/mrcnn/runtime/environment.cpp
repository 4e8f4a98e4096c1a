#include "mrcnn/runtime/environment.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <fmt/format.h>
#include <torch/version.h>

#include "mrcnn/build_info.h"
#include "mrcnn/runtime/device.h"

namespace mrcnn::runtime {
namespace {

std::string cuda_version_text(long version) {
  // CUDA runtime versions are encoded as 1000 * major + 10 * minor.
  return fmt::format("{}.{}", version / 1000, (version % 1000) / 10);
}

std::string cudnn_version_text(long version) {
  // cuDNN >= 9 encodes 10000 * major + 100 * minor + patch.
  return fmt::format("{}.{}.{}", version / 10000, (version % 10000) / 100, version % 100);
}

}  // namespace

#ifndef MRCNN_WITH_CUDA
std::vector<CudaDeviceInfo> cuda_devices() { return {}; }
#endif

std::string describe_environment() {
  const auto& hooks = at::detail::getCUDAHooks();
  std::string out;
  out += fmt::format("mrcnn        {}\n", build_info::kVersion);
  out += fmt::format("LibTorch     {} (built against {})\n", TORCH_VERSION,
                     build_info::kTorchVersionAtBuild);
  if (at::hasCUDA()) {
    out += fmt::format("CUDA runtime {}\n", cuda_version_text(hooks.versionCUDART()));
    out +=
        fmt::format("cuDNN        {}\n",
                    hooks.hasCuDNN() ? cudnn_version_text(hooks.versionCuDNN()) : "not available");
  } else {
    out += "CUDA runtime not available (no CUDA driver or device)\n";
  }

  out += "devices      cpu";
  const int gpus = hooks.getNumGPUs();
  const auto named = cuda_devices();
  for (int i = 0; i < gpus; ++i) {
    if (static_cast<std::size_t>(i) < named.size()) {
      const auto& d = named[i];
      out += fmt::format(", cuda:{} ({}, sm_{}{}, {:.1f} GiB)", i, d.name, d.major, d.minor,
                         d.memory_gib);
    } else {
      out += fmt::format(", cuda:{}", i);
    }
  }
  if (at::hasXPU()) out += ", xpu";
  if (at::hasMPS()) out += ", mps";
  // A vendor backend loaded from MRCNN_BACKEND_PLUGINS.
  if (const auto vendor = vendor_devices()) {
    for (int i = 0; i < vendor->count; ++i) out += fmt::format(", {}:{}", vendor->name, i);
  }
  out += "\n";

  out += fmt::format(
      "threads      {} intra-op, {} inter-op ({})\n", at::get_num_threads(),
      at::get_num_interop_threads(),
      at::get_parallel_info().find("OpenMP") != std::string::npos ? "OpenMP" : "native");
  out += fmt::format(
      "build        {}, {}, CUDA kernels {}{}, precompiled header {}\n", build_info::kBuildType,
      build_info::kCompiler,
#ifdef MRCNN_WITH_CUDA
      "on",
      fmt::format(" ({}, arch {})", build_info::kCudaCompiler, build_info::kCudaArchitectures),
#else
      "off", "",
#endif
      build_info::kPrecompiledHeader ? "on" : "off");
  return out;
}

}  // namespace mrcnn::runtime
