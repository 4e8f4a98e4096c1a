// Averaging gradients over data-parallel ranks while the backward pass runs (what PyTorch's
// DistributedDataParallel does, which LibTorch does not offer): parameters are packed into
// buckets in reverse order (about the order their gradients appear), and a bucket's
// all-reduce starts as soon as its last gradient has arrived. Buckets start strictly in order,
// so every rank issues the same collectives in the same sequence; a parameter that gets no
// gradient on some rank contributes zeros when finish() starts what is left.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <mutex>
#include <vector>

#include "mrcnn/distributed/process_group.h"

namespace mrcnn::distributed {

class GradientReducer {
 public:
  GradientReducer(ProcessGroup& group, std::vector<at::Tensor> parameters,
                  int64_t bucket_bytes = 25 << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before each backward pass.
  void begin();
  // After it: every bucket reduced; each parameter's .grad is the mean over ranks.
  void finish();

  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }
  // Buckets whose all-reduce has started in this step (before finish(): those overlapped with
  // the backward pass).
  int64_t buckets_started() const { return static_cast<int64_t>(next_to_start_); }

 private:
  struct Bucket {
    std::vector<std::size_t> members;  // indices into parameters_
    std::vector<int64_t> offsets;
    int64_t numel = 0;
    at::Tensor flat;
    int64_t waiting = 0;  // gradients still to arrive in this step
    std::unique_ptr<PendingCollective> work;
  };

  void on_gradient(std::size_t parameter, const at::Tensor& grad);
  void start_ready_buckets(bool all);

  ProcessGroup& group_;
  std::vector<at::Tensor> parameters_;
  std::vector<bool> channels_last_;  // per parameter
  std::vector<unsigned> hooks_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<std::size_t, std::size_t>> place_;  // parameter -> (bucket, member)
  std::size_t next_to_start_ = 0;
  bool active_ = false;
  std::mutex mutex_;  // hooks may run on the autograd engine's device threads
};

}  // namespace mrcnn::distributed
