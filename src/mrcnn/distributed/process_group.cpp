#include "mrcnn/distributed/process_group.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <dlfcn.h>

#include <cstdlib>
#include <thread>

#include "mrcnn/common/error.h"
#include "mrcnn/common/strings.h"

#if MRCNN_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace mrcnn::distributed {

#if MRCNN_WITH_GLOO && MRCNN_WITH_NCCL
// In cuda/nccl_backend.cpp, which needs the CUDA and NCCL headers.
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    int rank, int size,
                                                    std::chrono::milliseconds timeout);
#endif

namespace {

#if MRCNN_WITH_GLOO
// Collective libraries that vendor backend plugins bring (Cambricon's CNCL, Huawei's HCCL),
// found by the two C functions such a plugin exports (see process_group.h).
using CollectiveNames = const char* (*)();
using MakeCollective = c10d::Backend* (*)(const char* name,
                                          const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                          int size, int64_t timeout_ms);

std::vector<std::string> vendor_collectives() {
  auto* names = reinterpret_cast<CollectiveNames>(dlsym(RTLD_DEFAULT, "mrcnn_collective_backends"));
  std::vector<std::string> out;
  if (names == nullptr || names() == nullptr) return out;
  for (std::string& name : split(names(), ','))
    if (!name.empty()) out.push_back(std::move(name));
  return out;
}
#endif

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// A world of one: every collective is the identity.
class SingleProcess final : public ProcessGroup {
 public:
  int64_t rank() const override { return 0; }
  int64_t world_size() const override { return 1; }
  std::string backend_name() const override { return "none"; }
  void broadcast(std::vector<at::Tensor>&, int64_t) override {}
  void all_reduce_mean(std::vector<at::Tensor>&, int64_t) override {}
  std::unique_ptr<PendingCollective> start_all_reduce_sum(at::Tensor) override {
    struct Done final : PendingCollective {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  void barrier() override {}
  std::vector<std::string> gather_to_root(const std::string&, const std::string& bytes) override {
    return {bytes};
  }
  void report_progress(int64_t) override {}
  std::string share_from_root(const std::string&, const std::string& bytes) override {
    return bytes;
  }
  std::string fail_everywhere(const std::string& message) override { return message; }
  std::optional<std::string> earlier_failure() override { return std::nullopt; }
};

#if MRCNN_WITH_GLOO

// Where a posted failure is kept: in the store of the whole run (torchrun's agent keeps it
// across restarts), and, per attempt, which ranks have read it.
constexpr const char* kFailureKey = "failure";
constexpr const char* kFailureSeenKey = "failure-seen/";
constexpr const char* kFailureReleasedKey = "failure-released";
// How long a failing rank waits for the others to read its message.
constexpr std::chrono::seconds kFailureWait{20};

std::string text_of(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }
std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

class C10dGroup final : public ProcessGroup {
 public:
  // store: this attempt's keys; run_store: keys that outlive a restart.
  C10dGroup(const LaunchEnvironment& launch, c10::intrusive_ptr<c10d::Store> store,
            c10::intrusive_ptr<c10d::Store> run_store, c10::intrusive_ptr<c10d::Backend> backend,
            std::string name, bool through_host)
      : launch_(launch),
        store_(std::move(store)),
        run_store_(std::move(run_store)),
        backend_(std::move(backend)),
        name_(std::move(name)),
        through_host_(through_host) {}

  int64_t rank() const override { return launch_.rank; }
  int64_t world_size() const override { return launch_.world_size; }
  std::string backend_name() const override {
    return through_host_ ? name_ + " via host memory (the device has no collective library)"
                         : name_;
  }

  void broadcast(std::vector<at::Tensor>& tensors, int64_t root) override {
    for_each_bucket(tensors, 25 << 20, [&](std::vector<at::Tensor>& flat) {
      c10d::BroadcastOptions options;
      options.rootRank = root;
      run("broadcast", [&] { backend_->broadcast(flat, options)->wait(); });
    });
  }

  void all_reduce_mean(std::vector<at::Tensor>& tensors, int64_t bucket_bytes) override {
    for_each_bucket(tensors, bucket_bytes, [&](std::vector<at::Tensor>& flat) {
      run("all-reduce", [&] { backend_->allreduce(flat)->wait(); });
      flat[0].div_(static_cast<double>(launch_.world_size));
    });
  }

  std::unique_ptr<PendingCollective> start_all_reduce_sum(at::Tensor flat) override {
    struct Pending final : PendingCollective {
      Pending(C10dGroup& owner, c10::intrusive_ptr<c10d::Work> started, at::Tensor summed,
              at::Tensor on_host)
          : group(owner),
            work(std::move(started)),
            result(std::move(summed)),
            staged(std::move(on_host)) {}
      void wait() override {
        group.run("all-reduce", [&] { work->wait(); });
        if (staged.defined()) result.copy_(staged);
      }
      C10dGroup& group;
      c10::intrusive_ptr<c10d::Work> work;
      at::Tensor result, staged;  // staged: the host copy that the collective sums
    };
    at::Tensor staged = through_host_ ? flat.to(at::kCPU) : at::Tensor();
    std::vector<at::Tensor> tensors = {staged.defined() ? staged : flat};
    c10::intrusive_ptr<c10d::Work> work;
    run("all-reduce", [&] { work = backend_->allreduce(tensors); });
    return std::make_unique<Pending>(*this, std::move(work), std::move(flat), std::move(staged));
  }

  void barrier() override {
    run("barrier", [&] { backend_->barrier()->wait(); });
  }

  std::vector<std::string> gather_to_root(const std::string& key,
                                          const std::string& bytes) override {
    const std::string prefix = "mrcnn/gather/" + key + "/";
    run("gather", [&] {
      store_->set(prefix + std::to_string(launch_.rank),
                  std::vector<uint8_t>(bytes.begin(), bytes.end()));
    });
    std::vector<std::string> all;
    if (launch_.rank == 0) {
      for (int64_t r = 0; r < launch_.world_size; ++r) {
        run("gather", [&] {
          const std::vector<uint8_t> value = store_->get(prefix + std::to_string(r));
          all.emplace_back(value.begin(), value.end());
        });
      }
      for (int64_t r = 0; r < launch_.world_size; ++r)
        store_->deleteKey(prefix + std::to_string(r));
    }
    barrier();
    return all;
  }

  void report_progress(int64_t step) override {
    step_ = step;
    run("progress report", [&] {
      store_->set("mrcnn/progress/" + std::to_string(launch_.rank), std::to_string(step));
    });
  }

  std::string share_from_root(const std::string& key, const std::string& bytes) override {
    const std::string name = "mrcnn/share/" + key;
    std::string shared = bytes;
    run("sharing", [&] {
      if (launch_.rank == 0) {
        store_->set(name, bytes_of(bytes));
        return;
      }
      // Polled rather than waited for, so that a failure rank 0 posts meanwhile ends the wait.
      const auto deadline = std::chrono::steady_clock::now() + store_->getTimeout();
      while (!store_->check({name})) {
        if (std::optional<std::string> posted = posted_failure()) throw CollectiveError(*posted);
        if (std::chrono::steady_clock::now() > deadline) {
          throw CollectiveError(fmt::format("rank {}: rank 0 did not share '{}' within {} s",
                                            launch_.rank, key,
                                            store_->getTimeout().count() / 1000));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      shared = text_of(store_->get(name));
    });
    return shared;
  }

  std::string fail_everywhere(const std::string& message) override {
    std::string standing = message;
    try {
      // The first failure posted stands; later ones are its consequences.
      standing = text_of(run_store_->compareSet(kFailureKey, {}, bytes_of(message)));
      if (standing.empty()) standing = message;
      store_->set(kFailureSeenKey + std::to_string(launch_.rank), std::vector<uint8_t>{1});
      // With this rank's connections closed, the others' next collective fails at once, and
      // they find the message.
      backend_.reset();
      ranks_without_key(kFailureSeenKey, kFailureWait);
      // Everyone has read it: all leave together, so that a launcher that stops the rest when
      // one exits finds them with the message already printed.
      store_->set(kFailureReleasedKey, std::vector<uint8_t>{1});
    } catch (const std::exception&) {
      // The store is gone: nobody is left to tell.
    }
    return standing;
  }

  std::optional<std::string> earlier_failure() override {
    try {
      if (run_store_->check({kFailureKey})) return text_of(run_store_->get(kFailureKey));
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }

 private:
  // Packs same-typed tensors into flat buffers of about `bucket_bytes`, runs `collective` on
  // each, and copies the results back.
  template <class Collective>
  void for_each_bucket(std::vector<at::Tensor>& tensors, int64_t bucket_bytes,
                       Collective&& collective) {
    at::NoGradGuard no_grad;  // parameters are written in place
    std::size_t start = 0;
    while (start < tensors.size()) {
      std::size_t end = start;
      int64_t bytes = 0;
      while (end < tensors.size() && tensors[end].scalar_type() == tensors[start].scalar_type() &&
             (end == start || bytes + tensors[end].nbytes() <= static_cast<size_t>(bucket_bytes))) {
        bytes += static_cast<int64_t>(tensors[end].nbytes());
        ++end;
      }
      std::vector<at::Tensor> parts;
      for (std::size_t i = start; i < end; ++i) parts.push_back(tensors[i].reshape(-1));
      std::vector<at::Tensor> flat = {at::cat(parts)};
      if (through_host_) flat[0] = flat[0].to(at::kCPU);
      collective(flat);
      int64_t offset = 0;
      for (std::size_t i = start; i < end; ++i) {
        const int64_t n = tensors[i].numel();
        tensors[i].copy_(flat[0].narrow(0, offset, n).view(tensors[i].sizes()));
        offset += n;
      }
      start = end;
    }
  }

  template <class Body>
  void run(const char* what, Body&& body) {
    if (!backend_) throw CollectiveError("this rank has left the group after a failure");
    try {
      body();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      if (std::optional<std::string> posted = posted_failure()) throw CollectiveError(*posted);
      std::string reason = e.what();
      reason = reason.substr(0, reason.find('\n'));
      throw CollectiveError(fmt::format("rank {}: {} failed after step {}: {}. {}", launch_.rank,
                                        what, step_, reason, silent_ranks()));
    }
  }

  // The failure another rank posted (fail_everywhere), marked as read by this rank; returns
  // once every rank has read it (see fail_everywhere).
  std::optional<std::string> posted_failure() {
    std::string message;
    try {
      if (!run_store_->check({kFailureKey})) return std::nullopt;
      message = text_of(run_store_->get(kFailureKey));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    try {
      store_->set(kFailureSeenKey + std::to_string(launch_.rank), std::vector<uint8_t>{1});
      const auto deadline = std::chrono::steady_clock::now() + kFailureWait;
      while (!store_->check({kFailureReleasedKey}) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } catch (const std::exception&) {
      // The store's host has left: it released everyone.
    }
    return message;
  }

  // The other ranks that have not set `prefix + <their rank>` within `timeout` (each rank
  // checks in under such a key when something fails).
  std::vector<int64_t> ranks_without_key(const std::string& prefix,
                                         std::chrono::milliseconds timeout) {
    std::vector<int64_t> waiting;
    for (int64_t r = 0; r < launch_.world_size; ++r) {
      if (r != launch_.rank) waiting.push_back(r);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
      std::erase_if(waiting,
                    [&](int64_t r) { return store_->check({prefix + std::to_string(r)}); });
      if (!waiting.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return waiting;
  }

  // Which ranks are gone: after a failed collective every surviving rank checks in under a
  // key of its last step; those that do not within a few seconds have died or hang.
  std::string silent_ranks() {
    std::vector<int64_t> missing;
    try {
      store_->setTimeout(std::chrono::seconds(5));
      const std::string prefix = "mrcnn/alive/" + std::to_string(step_) + "/";
      store_->set(prefix + std::to_string(launch_.rank), std::vector<uint8_t>{1});
      missing = ranks_without_key(prefix, std::chrono::seconds(5));
    } catch (const std::exception&) {
      return fmt::format(
          "The rendezvous store at {}:{} is unreachable: its host ({}) has probably died.",
          launch_.master_addr, launch_.master_port,
          launch_.agent_store ? "the torchrun agent" : "rank 0");
    }
    if (missing.empty()) return "Every other rank is still alive; see the error above.";
    std::string names;
    for (int64_t r : missing) names += fmt::format("{}{}", names.empty() ? "" : ", ", r);
    return fmt::format(
        "Rank{} {} did not answer (died or hangs). Checkpoints already written are "
        "intact.",
        missing.size() > 1 ? "s" : "", names);
  }

  LaunchEnvironment launch_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Store> run_store_;
  c10::intrusive_ptr<c10d::Backend> backend_;
  std::string name_;
  // The device's tensors are copied to host memory for each collective: Gloo reads CPU (and
  // CUDA) memory only, and a vendor device without a collective library of its own has no
  // other way to its peers.
  bool through_host_ = false;
  int64_t step_ = 0;
};

#endif

}  // namespace

std::unique_ptr<ProcessGroup> ProcessGroup::create(const LaunchEnvironment& launch,
                                                   const c10::Device& device,
                                                   const std::string& backend,
                                                   std::chrono::milliseconds timeout) {
  if (launch.world_size == 1) return std::make_unique<SingleProcess>();
#if MRCNN_WITH_GLOO
  const std::vector<std::string> vendor = vendor_collectives();
  // auto: NCCL on CUDA; on a vendor device its own library if its plugin brings one; Gloo else.
  std::string name = backend;
  if (backend == "auto") {
    name = device.is_cuda()                                                   ? "nccl"
           : device.type() == c10::DeviceType::PrivateUse1 && !vendor.empty() ? vendor.front()
                                                                              : "gloo";
  }
  const bool is_vendor = std::find(vendor.begin(), vendor.end(), name) != vendor.end();
  if (name != "gloo" && name != "nccl" && !is_vendor) {
    std::string registered = MRCNN_WITH_NCCL ? "gloo, nccl" : "gloo";
    for (const std::string& v : vendor) registered += ", " + v;
    throw Error(fmt::format(
        "dist_backend '{}' is not a collective backend registered here; registered: {} (or "
        "auto). A vendor's collective library is registered by its backend plugin "
        "(MRCNN_BACKEND_PLUGINS).",
        backend, registered));
  }
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(launch.master_port);
  options.isServer = !launch.agent_store && launch.rank == 0;
  options.numWorkers =
      launch.agent_store ? std::nullopt : std::optional<std::size_t>(launch.world_size);
  options.waitWorkers = !launch.agent_store;
  options.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, options);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    throw Error(fmt::format("rank {}: cannot join the rendezvous store at {}:{}: {}", launch.rank,
                            launch.master_addr, launch.master_port,
                            reason.substr(0, reason.find('\n'))));
  }
  // Keys of the whole run; with torchrun's agent store they outlive a restart of the workers.
  c10::intrusive_ptr<c10d::Store> run_store =
      c10::make_intrusive<c10d::PrefixStore>("mrcnn-run", store);
  if (launch.agent_store) {
    // Where torchrun's Python workers would put their keys, so restarts never mix.
    store = c10::make_intrusive<c10d::PrefixStore>(
        "/worker/attempt_" + std::to_string(launch.restart_count), store);
  }
  store = c10::make_intrusive<c10d::PrefixStore>("mrcnn", store);
  c10::intrusive_ptr<c10d::Backend> group;
  const int rank = static_cast<int>(launch.rank), size = static_cast<int>(launch.world_size);
  if (is_vendor) {
    auto* make =
        reinterpret_cast<MakeCollective>(dlsym(RTLD_DEFAULT, "mrcnn_make_collective_backend"));
    if (make == nullptr) {
      throw Error("the backend plugin names the collective backend '" + name +
                  "' but exports no mrcnn_make_collective_backend to make it");
    }
    c10d::Backend* made = make(name.c_str(), c10::make_intrusive<c10d::PrefixStore>(name, store),
                               rank, size, timeout.count());
    if (made == nullptr)
      throw Error("the backend plugin could not make collective backend '" + name + "'");
    group = c10::intrusive_ptr<c10d::Backend>::reclaim(made);
  } else if (name == "gloo") {
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    const char* interface = env("GLOO_SOCKET_IFNAME");
    gloo_options->devices.push_back(
        interface != nullptr ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                             : c10d::ProcessGroupGloo::createDefaultDevice());
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", store), rank, size, gloo_options);
  } else {
#if MRCNN_WITH_NCCL
    group = make_nccl_backend(c10::make_intrusive<c10d::PrefixStore>("nccl", store), rank, size,
                              timeout);
#else
    throw Error("this build has no NCCL support (built without CUDA); use dist_backend: gloo");
#endif
  }
  const bool through_host = name == "gloo" && !device.is_cpu() && !device.is_cuda();
  return std::make_unique<C10dGroup>(launch, store, run_store, group, name, through_host);
#else
  (void)device;
  (void)backend;
  (void)timeout;
  throw Error(fmt::format(
      "launched as rank {} of {}, but this build has no c10d support (Gloo headers were not "
      "found at build time)",
      launch.rank, launch.world_size));
#endif
}

}  // namespace mrcnn::distributed
