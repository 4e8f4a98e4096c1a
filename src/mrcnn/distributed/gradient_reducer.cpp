#include "mrcnn/distributed/gradient_reducer.h"

#include <ATen/ATen.h>

namespace mrcnn::distributed {
namespace {

// NHWC (channels_last) parameters: their gradients go through the buckets in memory order,
// as [N, H, W, C] views, so no transposing copy is made either way.
bool is_channels_last(const at::Tensor& p) {
  return p.dim() == 4 && !p.is_contiguous() && p.is_contiguous(at::MemoryFormat::ChannelsLast);
}

at::Tensor in_memory_order(const at::Tensor& t, bool channels_last) {
  return channels_last ? t.permute({0, 2, 3, 1}) : t;
}

}  // namespace

GradientReducer::GradientReducer(ProcessGroup& group, std::vector<at::Tensor> parameters,
                                 int64_t bucket_bytes)
    : group_(group), parameters_(std::move(parameters)), place_(parameters_.size()) {
  // Reverse order: the heads' gradients are ready first, the stem's last.
  for (std::size_t k = parameters_.size(); k-- > 0;) {
    const at::Tensor& p = parameters_[k];
    const bool fits =
        !buckets_.empty() &&
        parameters_[buckets_.back().members.front()].options().type_equal(p.options()) &&
        (buckets_.back().numel + p.numel()) * p.element_size() <= bucket_bytes;
    if (!fits) buckets_.emplace_back();
    Bucket& bucket = buckets_.back();
    place_[k] = {buckets_.size() - 1, bucket.members.size()};
    bucket.members.push_back(k);
    bucket.offsets.push_back(bucket.numel);
    bucket.numel += p.numel();
  }
  for (std::size_t k = 0; k < parameters_.size(); ++k) {
    channels_last_.push_back(is_channels_last(parameters_[k]));
    hooks_.push_back(
        parameters_[k].register_hook([this, k](const at::Tensor& grad) { on_gradient(k, grad); }));
  }
}

GradientReducer::~GradientReducer() {
  for (std::size_t k = 0; k < parameters_.size(); ++k) parameters_[k].remove_hook(hooks_[k]);
}

void GradientReducer::begin() {
  std::lock_guard lock(mutex_);
  for (Bucket& bucket : buckets_) {
    // Zeros: a parameter without a gradient this step still takes part.
    bucket.flat = at::zeros({bucket.numel}, parameters_[bucket.members.front()].options());
    bucket.waiting = static_cast<int64_t>(bucket.members.size());
    bucket.work.reset();
  }
  next_to_start_ = 0;
  active_ = true;
}

void GradientReducer::on_gradient(std::size_t parameter, const at::Tensor& grad) {
  std::lock_guard lock(mutex_);
  if (!active_) return;
  const auto [b, m] = place_[parameter];
  Bucket& bucket = buckets_[b];
  bucket.flat.narrow(0, bucket.offsets[m], grad.numel())
      .copy_(in_memory_order(grad, channels_last_[parameter]).reshape(-1));
  if (--bucket.waiting == 0) start_ready_buckets(false);
}

void GradientReducer::start_ready_buckets(bool all) {
  while (next_to_start_ < buckets_.size() && (all || buckets_[next_to_start_].waiting == 0)) {
    Bucket& bucket = buckets_[next_to_start_++];
    bucket.work = group_.start_all_reduce_sum(bucket.flat);
  }
}

void GradientReducer::finish() {
  std::lock_guard lock(mutex_);
  start_ready_buckets(true);
  active_ = false;
  at::NoGradGuard no_grad;
  const double world = static_cast<double>(group_.world_size());
  for (Bucket& bucket : buckets_) {
    bucket.work->wait();
    bucket.flat.div_(world);
    for (std::size_t m = 0; m < bucket.members.size(); ++m) {
      at::Tensor& p = parameters_[bucket.members[m]];
      const bool channels_last = channels_last_[bucket.members[m]];
      at::Tensor mean = bucket.flat.narrow(0, bucket.offsets[m], p.numel())
                            .view(in_memory_order(p, channels_last).sizes());
      if (channels_last) mean = mean.permute({0, 3, 1, 2});  // back to [N, C, H, W] indexing
      if (p.grad().defined()) {
        p.mutable_grad().copy_(mean);
      } else {
        p.mutable_grad() = mean.clone(at::MemoryFormat::Preserve);
      }
    }
  }
}

}  // namespace mrcnn::distributed
