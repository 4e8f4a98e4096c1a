// Multi-process data parallelism on PyTorch's c10d: Gloo on CPU, NCCL on CUDA.
//
// The launch comes from the environment: torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT (with TORCHELASTIC_USE_AGENT_STORE=True every rank joins the store torchrun's
// agent hosts; otherwise rank 0 hosts it), or, for other launchers, OpenMPI's
// OMPI_COMM_WORLD_* or Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID with MASTER_ADDR and
// MASTER_PORT. Without any of them the process runs alone, as a world of one.
//
// Every rank reports its progress to the store; when a collective fails (a peer died) or times
// out (a peer hangs), the error names the ranks that fell silent.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mrcnn::engine {

struct LaunchEnvironment {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // torchrun's agent hosts the store
  int64_t restart_count = 0;
  std::string launcher = "none";  // torchrun | environment | openmpi | slurm | none
};

// Reads the variables above; throws mrcnn::Error naming a malformed one.
LaunchEnvironment read_launch_environment();

// The device a rank uses: with several ranks on a machine, a plain "cuda" becomes
// cuda:<local rank>.
c10::Device rank_device(const c10::Device& requested, const LaunchEnvironment& launch);

// A collective started and not yet waited for.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

class ProcessGroup {
 public:
  // backend: "auto" (gloo for CPU tensors, nccl for CUDA), "gloo" or "nccl".
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
};

}  // namespace mrcnn::engine
