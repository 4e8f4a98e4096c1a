// A simulated accelerator, loaded the way a vendor backend (Cambricon's for MLU, Huawei's for
// NPU) is loaded: a shared library that, at load time, gives LibTorch's PrivateUse1 device a
// name and everything a device needs. This file is the whole list:
//   1. the name:          c10::register_privateuse1_backend("mlu")
//   2. memory:            an allocator (host memory here, counted per device)
//   3. which device:      a device guard, MRCNN_SIM_DEVICES devices (default 1)
//   4. kernels:           empty, empty_strided, copies to/from/within the device, views,
//                         resize_ and set_, convolutions, the shallow-copy check; every
//                         other operator through a boxed fallback that runs ATen's CPU
//                         kernel on host copies
//   5. randomness:        one default generator per device
//   6. hooks:             device count, availability, pinned memory, generators
//   7. mixed precision:   autocast kernels for the device type
// The simulation's own switches, for tests:
//   MRCNN_SIM_DEVICES=N        how many devices there are
//   MRCNN_SIM_UNSUPPORTED=a,b  operators the "hardware" cannot run (e.g. aten::nonzero)
//   MRCNN_SIM_FP16=1           the device claims float16 support
//   MRCNN_SIM_COLLECTIVES=simccl  offers its own collective library (sim_collectives.cpp)
//   MRCNN_SIM_REPORT=path      at exit, writes what the allocator and the fallback counted
//                              ("{rank}" in the path: the launcher's RANK)
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/EmptyTensor.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/PrivateUse1HooksInterface.h>
#include <ATen/native/CPUFallback.h>
#include <ATen/native/Resize.h>
#include <ATen/ops/_reshape_alias_native.h>
#include <ATen/ops/as_strided_native.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/resize_native.h>
#include <ATen/ops/set_native.h>
#include <ATen/ops/unfold_native.h>
#include <ATen/ops/view_native.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

namespace {

constexpr c10::DeviceType kDevice = c10::DeviceType::PrivateUse1;
constexpr c10::DeviceIndex kMaxDevices = 16;

c10::DeviceIndex device_count() {
  static const c10::DeviceIndex count = [] {
    const char* text = std::getenv("MRCNN_SIM_DEVICES");
    const int n = text != nullptr ? std::atoi(text) : 1;
    return static_cast<c10::DeviceIndex>(std::clamp(n, 1, int(kMaxDevices)));
  }();
  return count;
}

thread_local c10::DeviceIndex current_device = 0;

void check_index(c10::DeviceIndex index) {
  TORCH_CHECK(index >= 0 && index < device_count(), "mlu:", int(index),
              " requested but this machine has ", int(device_count()),
              " mlu device(s) (mlu:0..mlu:", int(device_count()) - 1, ")");
}

// ---- 2. memory --------------------------------------------------------------------------------

struct DeviceCounts {
  // peak: since the last resetPeakStats (a program's window); highest: since the start.
  std::atomic<int64_t> live{0}, peak{0}, highest{0}, allocations{0};
};

void raise_to(std::atomic<int64_t>& value, int64_t candidate) {
  int64_t seen = value.load();
  while (candidate > seen && !value.compare_exchange_weak(seen, candidate)) {
  }
}

DeviceCounts counts[kMaxDevices];

struct Allocation {
  void* data;
  std::size_t bytes;
  c10::DeviceIndex device;
};

void free_allocation(void* context) {
  auto* a = static_cast<Allocation*>(context);
  counts[a->device].live -= static_cast<int64_t>(a->bytes);
  c10::free_cpu(a->data);
  delete a;
}

// Device memory is host memory here (so that the CPU fallback can read it), allocated apart
// and counted, so that a test can tell what lives on the device. A c10::DeviceAllocator, as
// the caching allocators of CUDA and of vendor backends are, so programs can ask for its peaks.
struct SimAllocator final : c10::DeviceAllocator {
  c10::DataPtr allocate(std::size_t bytes) override {
    const c10::DeviceIndex device = current_device;
    auto* a = new Allocation{bytes > 0 ? c10::alloc_cpu(bytes) : nullptr, bytes, device};
    DeviceCounts& c = counts[device];
    const int64_t live = c.live += static_cast<int64_t>(bytes);
    raise_to(c.peak, live);
    raise_to(c.highest, live);
    ++c.allocations;
    return {a->data, a, &free_allocation, c10::Device(kDevice, device)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return nullptr; }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
  bool initialized() override { return true; }
  void emptyCache(c10::MempoolId_t) override {}
  void recordStream(const c10::DataPtr&, c10::Stream) override {}
  c10::CachingDeviceAllocator::DeviceStats getDeviceStats(c10::DeviceIndex device) override {
    c10::CachingDeviceAllocator::DeviceStats stats;
    constexpr auto kAll =
        static_cast<std::size_t>(c10::CachingDeviceAllocator::StatType::AGGREGATE);
    const DeviceCounts& c = counts[device];
    stats.allocated_bytes[kAll].current = stats.reserved_bytes[kAll].current = c.live.load();
    stats.allocated_bytes[kAll].peak = stats.reserved_bytes[kAll].peak = c.peak.load();
    return stats;
  }
  void resetAccumulatedStats(c10::DeviceIndex) override {}
  void resetPeakStats(c10::DeviceIndex device) override {
    counts[device].peak = counts[device].live.load();
  }
};

SimAllocator allocator;

// ---- 3. which device --------------------------------------------------------------------------

struct SimGuard final : c10::impl::DeviceGuardImplInterface {
  c10::DeviceType type() const override { return kDevice; }
  c10::Device exchangeDevice(c10::Device device) const override {
    const c10::Device previous = getDevice();
    setDevice(device);
    return previous;
  }
  c10::Device getDevice() const override { return {kDevice, current_device}; }
  void setDevice(c10::Device device) const override {
    check_index(device.index());
    current_device = device.index();
  }
  void uncheckedSetDevice(c10::Device device) const noexcept override {
    current_device = device.index();
  }
  // One in-order queue per device, like a backend's default stream.
  c10::Stream getStream(c10::Device device) const override {
    return c10::Stream(c10::Stream::DEFAULT, device);
  }
  c10::Stream exchangeStream(c10::Stream stream) const override {
    return c10::Stream(c10::Stream::DEFAULT, stream.device());
  }
  c10::DeviceIndex deviceCount() const noexcept override { return device_count(); }
  // Work is synchronous, so every event has happened when recorded.
  void record(void**, const c10::Stream&, c10::DeviceIndex, c10::EventFlag) const override {}
  void block(void*, const c10::Stream&) const override {}
  bool queryEvent(void*) const override { return true; }
  void destroyEvent(void*, c10::DeviceIndex) const noexcept override {}
  void synchronizeStream(const c10::Stream&) const override {}
  void synchronizeDevice(c10::DeviceIndex) const override {}
};

C10_REGISTER_GUARD_IMPL(PrivateUse1, SimGuard);

// ---- 4. kernels -------------------------------------------------------------------------------

c10::DeviceIndex index_of(std::optional<c10::Device> device) {
  return device.has_value() && device->has_index() ? device->index() : current_device;
}

at::Tensor empty(c10::IntArrayRef size, std::optional<at::ScalarType> dtype,
                 std::optional<at::Layout>, std::optional<at::Device> device, std::optional<bool>,
                 std::optional<at::MemoryFormat> memory_format) {
  const c10::DeviceGuard guard(c10::Device(kDevice, index_of(device)));
  return at::detail::empty_generic(size, &allocator,
                                   c10::DispatchKeySet(c10::DispatchKey::PrivateUse1),
                                   c10::dtype_or_default(dtype), memory_format);
}

at::Tensor empty_strided(c10::IntArrayRef size, c10::IntArrayRef stride,
                         std::optional<at::ScalarType> dtype, std::optional<at::Layout>,
                         std::optional<at::Device> device, std::optional<bool>) {
  const c10::DeviceGuard guard(c10::Device(kDevice, index_of(device)));
  return at::detail::empty_strided_generic(size, stride, &allocator,
                                           c10::DispatchKeySet(c10::DispatchKey::PrivateUse1),
                                           c10::dtype_or_default(dtype));
}

// The same memory seen as a CPU tensor (device memory is host memory in this simulation; a
// real backend would DMA instead).
at::Tensor host_alias(const at::Tensor& t) {
  if (!t.is_privateuseone()) return t;
  return at::from_blob(
      t.data_ptr(), t.sizes(), t.strides(), [](void*) {}, t.options().device(at::kCPU));
}

at::Tensor copy_from(const at::Tensor& self, const at::Tensor& dst, bool) {
  host_alias(dst).copy_(host_alias(self));
  return dst;
}

at::Tensor copy_from_and_resize(const at::Tensor& self, const at::Tensor& dst) {
  dst.resize_(self.sizes());
  return copy_from(self, dst, false);
}

const at::Tensor& resize(const at::Tensor& self, c10::SymIntArrayRef size,
                         std::optional<at::MemoryFormat> memory_format) {
  const c10::DeviceGuard guard(self.device());
  // ATen's CPU resize grows storage through the storage's own allocator: ours.
  return at::native::resize_(self, C10_AS_INTARRAYREF_SLOW(size), memory_format);
}

at::Tensor& set_storage(at::Tensor& self, at::Storage source, c10::SymInt offset,
                        c10::SymIntArrayRef size, c10::SymIntArrayRef stride) {
  return at::native::set_storage_cpu_(self, std::move(source), offset.guard_int(__FILE__, __LINE__),
                                      C10_AS_INTARRAYREF_SLOW(size),
                                      C10_AS_INTARRAYREF_SLOW(stride));
}

at::Tensor& set_source(at::Tensor& self, at::Storage source) {
  const int64_t elements = static_cast<int64_t>(source.nbytes() / self.dtype().itemsize());
  return at::native::set_storage_cpu_(self, std::move(source), 0, {elements}, {});
}

at::Tensor as_strided(const at::Tensor& self, c10::SymIntArrayRef size, c10::SymIntArrayRef stride,
                      std::optional<c10::SymInt> offset) {
  return at::native::as_strided_tensorimpl(
      self, C10_AS_INTARRAYREF_SLOW(size), C10_AS_INTARRAYREF_SLOW(stride),
      offset.has_value() ? std::optional<int64_t>(offset->guard_int(__FILE__, __LINE__))
                         : std::nullopt);
}

at::Tensor view(const at::Tensor& self, c10::SymIntArrayRef size) {
  return at::native::view(self, C10_AS_INTARRAYREF_SLOW(size));
}

at::Tensor reshape_alias(const at::Tensor& self, c10::SymIntArrayRef size,
                         c10::SymIntArrayRef stride) {
  return at::native::_reshape_alias(self, C10_AS_INTARRAYREF_SLOW(size),
                                    C10_AS_INTARRAYREF_SLOW(stride));
}

// Moving a module to the device swaps each parameter's data in place (Variable::set_data),
// which LibTorch allows only between tensor types it knows to be alike: a backend says that
// its dense tensors are, with the CPU's.
bool compatible_shallow_copy_type(const at::Tensor& self, const at::Tensor& from) {
  auto dense = [](const at::Tensor& t) {
    return t.layout() == at::kStrided && (t.is_cpu() || t.is_privateuseone());
  };
  return dense(self) && dense(from);
}

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("empty.memory_format", empty);
  m.impl("_has_compatible_shallow_copy_type", compatible_shallow_copy_type);
  m.impl("empty_strided", empty_strided);
  m.impl("_copy_from", copy_from);
  m.impl("_copy_from_and_resize", copy_from_and_resize);
  m.impl("resize_", resize);
  m.impl("set_.source_Storage_storage_offset", set_storage);
  m.impl("set_.source_Storage", set_source);
  m.impl("as_strided", as_strided);
  m.impl("view", view);
  m.impl("_reshape_alias", reshape_alias);
  m.impl("unfold", at::native::unfold);  // a view: must not fall back to a copy
}

// Convolutions: LibTorch sends a device it has no convolution for to convolution_overrideable,
// whose default only throws, so a backend always brings these two. Here they are ATen's CPU
// convolution on host copies, the same kernels a CPU run calls.
at::Tensor to_host(const at::Tensor& t) { return t.defined() ? t.to(at::kCPU) : t; }

at::Tensor convolution(const at::Tensor& input, const at::Tensor& weight,
                       const std::optional<at::Tensor>& bias, c10::IntArrayRef stride,
                       c10::IntArrayRef padding, c10::IntArrayRef dilation, bool transposed,
                       c10::IntArrayRef output_padding, int64_t groups) {
  const std::optional<at::Tensor> host_bias = bias.has_value() && bias->defined()
                                                  ? std::optional<at::Tensor>(to_host(*bias))
                                                  : std::nullopt;
  return at::convolution(to_host(input), to_host(weight), host_bias, stride, padding, dilation,
                         transposed, output_padding, groups)
      .to(input.device());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> convolution_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    c10::IntArrayRef stride, c10::IntArrayRef padding, c10::IntArrayRef dilation, bool transposed,
    c10::IntArrayRef output_padding, int64_t groups, std::array<bool, 3> output_mask) {
  const int64_t channels = transposed ? weight.size(1) * groups : weight.size(0);
  auto [grad_input, grad_weight, grad_bias] = at::convolution_backward(
      to_host(grad_output), to_host(input), to_host(weight), std::vector<int64_t>{channels}, stride,
      padding, dilation, transposed, output_padding, groups, output_mask);
  const c10::Device device = input.device();
  auto back = [&](const at::Tensor& t) { return t.defined() ? t.to(device) : t; };
  return {back(grad_input), back(grad_weight), back(grad_bias)};
}

TORCH_LIBRARY_IMPL(aten, PrivateUse1, m) {
  m.impl("convolution_overrideable", convolution);
  m.impl("convolution_backward_overrideable", convolution_backward);
}

// ---- 7. mixed precision -----------------------------------------------------------------------

// The device type's autocast: the same op lists and cast policies as CUDA's (matrix products
// and convolutions in the low-precision type; reductions, norms and losses in float32).
#define SIM_LOW_PRECISION(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, lower_precision_fp)
#define SIM_FP32(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, fp32)
#define SIM_FP32_SET_OPT_DTYPE(...) KERNEL_PRIVATEUSEONE(__VA_ARGS__, fp32_set_opt_dtype)

// Operators on no list run as they are.
TORCH_LIBRARY_IMPL(_, AutocastPrivateUse1, m) { m.fallback(torch::CppFunction::makeFallthrough()); }

}  // namespace

namespace at::autocast {  // where the op lists' unqualified names resolve
TORCH_LIBRARY_IMPL(aten, AutocastPrivateUse1, m) {
  AT_FORALL_LOWER_PRECISION_FP(SIM_LOW_PRECISION)
  AT_FORALL_FP32(SIM_FP32)
  AT_FORALL_FP32_SET_OPT_DTYPE(SIM_FP32_SET_OPT_DTYPE)
  AT_FORALL_DIFFERENT_REDISPATCH_SIGNATURE(KERNEL_DIFFERENT_REDISPATCH_SIGNATURE_PRIVATEUSEONE)
}
}  // namespace at::autocast

namespace {

// ---- 5. randomness ----------------------------------------------------------------------------

// A device's generator: the CPU's mt19937 engine, tagged with the device.
struct SimGenerator final : at::CPUGeneratorImpl {
  explicit SimGenerator(c10::DeviceIndex index) {
    device_ = c10::Device(kDevice, index);
    key_set_ = c10::DispatchKeySet(c10::DispatchKey::PrivateUse1);
  }
};

const at::Generator& default_generator(c10::DeviceIndex index) {
  static std::once_flag once;
  static std::vector<at::Generator> generators;
  std::call_once(once, [] {
    for (c10::DeviceIndex i = 0; i < device_count(); ++i)
      generators.push_back(at::make_generator<SimGenerator>(i));
  });
  check_index(index < 0 ? current_device : index);
  return generators[index < 0 ? current_device : index];
}

// ---- the fallback -----------------------------------------------------------------------------

std::mutex fallback_mutex;
std::map<std::string, int64_t> fallback_calls;

const std::set<std::string>& unsupported() {
  static const std::set<std::string> names = [] {
    std::set<std::string> out;
    const char* text = std::getenv("MRCNN_SIM_UNSUPPORTED");
    std::stringstream list(text != nullptr ? text : "");
    for (std::string name; std::getline(list, name, ',');)
      if (!name.empty()) out.insert(name);
    return out;
  }();
  return names;
}

// A device generator handed to a CPU kernel: run it on a CPU generator in the same state, then
// keep the advanced state on the device's generator.
struct GeneratorSwap {
  at::Generator device, host;
};

void fallback(const c10::OperatorHandle& op, torch::jit::Stack* stack) {
  const std::string name = c10::toString(op.operator_name());
  if (unsupported().count(op.schema().name()) != 0 || unsupported().count(name) != 0) {
    TORCH_CHECK_NOT_IMPLEMENTED(false, "operator ", name,
                                " is not implemented for the mlu device (the backend has no "
                                "kernel for it and no CPU fallback)");
  }
  {
    const std::lock_guard<std::mutex> lock(fallback_mutex);
    ++fallback_calls[name];
  }
  const auto arguments = op.schema().arguments().size();
  std::vector<GeneratorSwap> swaps;
  for (auto it = stack->end() - static_cast<std::ptrdiff_t>(arguments); it != stack->end(); ++it) {
    if (!it->isGenerator()) continue;
    at::Generator device = it->toGenerator();
    if (device.device().type() != kDevice) continue;
    at::Generator host = at::make_generator<at::CPUGeneratorImpl>();
    host.set_state(device.get_state());
    swaps.push_back({device, host});
    *it = c10::IValue(host);
  }
  at::native::cpu_fallback(op, stack);
  for (GeneratorSwap& s : swaps) s.device.set_state(s.host.get_state());
}

TORCH_LIBRARY_IMPL(_, PrivateUse1, m) {
  m.fallback(torch::CppFunction::makeFromBoxedFunction<&fallback>());
}

// ---- 6. hooks ---------------------------------------------------------------------------------

struct SimHooks final : at::PrivateUse1HooksInterface {
  bool isBuilt() const override { return true; }
  bool isAvailable() const override { return true; }
  const at::Generator& getDefaultGenerator(c10::DeviceIndex index) const override {
    return default_generator(index);
  }
  at::Generator getNewGenerator(c10::DeviceIndex index) const override {
    return at::make_generator<SimGenerator>(index < 0 ? current_device : index);
  }
  at::Device getDeviceFromPtr(void*) const override { return {kDevice, current_device}; }
  bool isPinnedPtr(const void*) const override { return false; }
  // Host memory that the device reads without staging: ordinary CPU memory in a simulation.
  at::Allocator* getPinnedMemoryAllocator() const override { return c10::GetCPUAllocator(); }
  bool hasPrimaryContext(c10::DeviceIndex) const override { return true; }
  c10::DeviceIndex deviceCount() const override { return device_count(); }
  void setCurrentDevice(c10::DeviceIndex index) const override {
    check_index(index);
    current_device = index;
  }
  c10::DeviceIndex getCurrentDevice() const override { return current_device; }
  c10::DeviceIndex exchangeDevice(c10::DeviceIndex index) const override {
    const c10::DeviceIndex previous = current_device;
    setCurrentDevice(index);
    return previous;
  }
  c10::DeviceIndex maybeExchangeDevice(c10::DeviceIndex index) const override {
    return exchangeDevice(index);
  }
  void resizePrivateUse1Bytes(const c10::Storage& storage, std::size_t bytes) const override {
    at::native::resize_bytes_cpu(storage.unsafeGetStorageImpl(), bytes);
  }
};

// ---- what the simulation counted --------------------------------------------------------------

void write_report() {
  const char* named = std::getenv("MRCNN_SIM_REPORT");
  if (named == nullptr) return;
  // One report per process of a launch: "{rank}" becomes the launcher's RANK.
  std::string path = named;
  if (const std::size_t at = path.find("{rank}"); at != std::string::npos) {
    const char* rank = std::getenv("RANK");
    path.replace(at, 6, rank != nullptr ? rank : "0");
  }
  std::ofstream out(path);
  out << "{\"devices\": [";
  for (c10::DeviceIndex d = 0; d < device_count(); ++d) {
    out << (d ? ", " : "") << "{\"peak_bytes\": " << counts[d].highest.load()
        << ", \"live_bytes\": " << counts[d].live.load()
        << ", \"allocations\": " << counts[d].allocations.load() << "}";
  }
  out << "], \"fallback_calls\": {";
  const std::lock_guard<std::mutex> lock(fallback_mutex);
  bool first = true;
  for (const auto& [name, calls] : fallback_calls) {
    out << (first ? "" : ", ") << "\"" << name << "\": " << calls;
    first = false;
  }
  out << "}}\n";
}

// ---- 1. the name, at load time ----------------------------------------------------------------

struct Registration {
  Registration() {
    c10::register_privateuse1_backend("mlu");
    c10::SetAllocator(kDevice, &allocator);
    static SimHooks hooks;
    at::RegisterPrivateUse1HooksInterface(&hooks);
    std::atexit(write_report);
  }
};
const Registration registration;

}  // namespace

// How this backend says that it computes in float16 (bfloat16 it always does).
extern "C" __attribute__((visibility("default"))) bool mrcnn_backend_supports_float16() {
  const char* text = std::getenv("MRCNN_SIM_FP16");
  return text != nullptr && std::string(text) == "1";
}
