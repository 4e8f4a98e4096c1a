// Multi-process data parallelism on PyTorch's c10d: Gloo on CPU, NCCL on CUDA, and on a vendor
// device its own collective library, or else Gloo with each collective's tensors copied
// through host memory (the run's log says so once). The group is
// made from a launch environment (launch.h); with torchrun's agent store every rank joins the
// store the agent hosts, otherwise rank 0 hosts it. A world of one needs no c10d at all.
//
// Every rank reports its progress to the store; when a collective fails (a peer died) or times
// out (a peer hangs), the error names the ranks that fell silent. A rank that fails on its
// input (not a crash) says so to every rank, and to the ranks a torchrun restart brings up, so
// that all stop with one message instead of restarting into the same failure.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mrcnn/common/error.h"
#include "mrcnn/distributed/launch.h"

namespace mrcnn::distributed {

// A collective that could not complete: a peer died, hangs, or failed and said why. Not
// itself a fault of this rank's input.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

// A collective started and not yet waited for.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

class ProcessGroup {
 public:
  // backend: "auto" (gloo for CPU tensors, nccl for CUDA, a vendor device's own library when
  // its plugin registers one), "gloo", "nccl", or a name a backend plugin registers. A plugin
  // registers collective backends by exporting, with C linkage,
  //   const char* mrcnn_collective_backends();  // its names, comma-separated
  //   c10d::Backend* mrcnn_make_collective_backend(const char* name,
  //       const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, int64_t timeout_ms);
  // the second returning a backend released from its intrusive_ptr (we take ownership).
  static std::unique_ptr<ProcessGroup> create(const LaunchEnvironment& launch,
                                              const c10::Device& device, const std::string& backend,
                                              std::chrono::milliseconds timeout);
  virtual ~ProcessGroup() = default;

  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  virtual std::string backend_name() const = 0;

  // In place, from `root` to every rank.
  virtual void broadcast(std::vector<at::Tensor>& tensors, int64_t root = 0) = 0;
  // In place: every tensor becomes the mean over ranks. Tensors are packed into flat buckets
  // of about bucket_bytes, one collective each.
  virtual void all_reduce_mean(std::vector<at::Tensor>& tensors,
                               int64_t bucket_bytes = 25 << 20) = 0;
  // Starts an in-place sum over ranks of one flat tensor and returns at once.
  virtual std::unique_ptr<PendingCollective> start_all_reduce_sum(at::Tensor flat) = 0;
  virtual void barrier() = 0;
  // Every rank's bytes, in rank order, on rank 0 (others get an empty list).
  virtual std::vector<std::string> gather_to_root(const std::string& key,
                                                  const std::string& bytes) = 0;
  // Records that this rank finished `step`; used to name silent ranks when something fails.
  virtual void report_progress(int64_t step) = 0;
  // Rank 0's `bytes` on every rank (what the others pass is not used); `key` names the value.
  virtual std::string share_from_root(const std::string& key, const std::string& bytes) = 0;
  // For a failure that a restart cannot mend (bad data, config or files): records it for the
  // whole run, closes this rank's connections so that the others stop waiting for it, and gives
  // them a moment to read it; they then throw a CollectiveError with the same text. Returns the
  // message that stands: this one, or another rank's that came first.
  virtual std::string fail_everywhere(const std::string& message) = 0;
  // The failure that an earlier attempt of this run recorded (before a torchrun restart).
  virtual std::optional<std::string> earlier_failure() = 0;
};

}  // namespace mrcnn::distributed
