// The simulated device's own collective library, "simccl", as a vendor's CNCL or HCCL would be
// offered to mrcnn: two C functions name it and make a c10d backend of it. Underneath it is
// Gloo, with the device's tensors staged through host memory. Offered only when
// MRCNN_SIM_COLLECTIVES=simccl, so that by default a run takes mrcnn's own host staging.
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

// A collective on host copies; waiting for it copies the result back to the device.
class StagedWork final : public c10d::Work {
 public:
  StagedWork(c10::intrusive_ptr<c10d::Work> inner, std::vector<at::Tensor> device,
             std::vector<at::Tensor> host)
      : inner_(std::move(inner)), device_(std::move(device)), host_(std::move(host)) {}
  bool isCompleted() override { return inner_->isCompleted(); }
  bool wait(std::chrono::milliseconds timeout) override {
    const bool done = inner_->wait(timeout);
    for (std::size_t i = 0; i < device_.size(); ++i) device_[i].copy_(host_[i]);
    return done;
  }

 private:
  c10::intrusive_ptr<c10d::Work> inner_;
  std::vector<at::Tensor> device_, host_;
};

class SimCollectives final : public c10d::Backend {
 public:
  SimCollectives(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                 std::chrono::milliseconds timeout)
      : c10d::Backend(rank, size) {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    gloo_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, options);
  }
  const std::string getBackendName() const override { return "simccl"; }

  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors,
                                           const c10d::AllreduceOptions& options) override {
    std::vector<at::Tensor> host = to_host(tensors);
    return c10::make_intrusive<StagedWork>(gloo_->allreduce(host, options), tensors, host);
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors,
                                           const c10d::BroadcastOptions& options) override {
    std::vector<at::Tensor> host = to_host(tensors);
    return c10::make_intrusive<StagedWork>(gloo_->broadcast(host, options), tensors, host);
  }
  c10::intrusive_ptr<c10d::Work> barrier(const c10d::BarrierOptions& options) override {
    return gloo_->barrier(options);
  }

 private:
  static std::vector<at::Tensor> to_host(const std::vector<at::Tensor>& tensors) {
    std::vector<at::Tensor> host;
    for (const at::Tensor& t : tensors) host.push_back(t.to(at::kCPU));
    return host;
  }
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo_;
};

bool offered() {
  const char* text = std::getenv("MRCNN_SIM_COLLECTIVES");
  return text != nullptr && std::string(text) == "simccl";
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const char* mrcnn_collective_backends() {
  return offered() ? "simccl" : "";
}

extern "C" __attribute__((visibility("default"))) c10d::Backend* mrcnn_make_collective_backend(
    const char* name, const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
    int64_t timeout_ms) {
  if (!offered() || std::string(name) != "simccl") return nullptr;
  return c10::make_intrusive<SimCollectives>(store, rank, size,
                                             std::chrono::milliseconds(timeout_ms))
      .release();
}
