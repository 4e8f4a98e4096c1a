#include "mrcnn/data/train_loader.h"

#include <ATen/ATen.h>
#include <c10/util/ParallelGuard.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "mrcnn/common/error.h"

namespace mrcnn::data {

std::vector<std::vector<int64_t>> plan_epoch(const coco::Dataset& dataset,
                                             const std::vector<coco::TrainingRecord>& records,
                                             const TrainLoaderOptions& options, int64_t epoch) {
  const int64_t n = static_cast<int64_t>(records.size());
  const int64_t global = options.batch_size * options.world_size;
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (options.shuffle) {
    std::mt19937_64 rng(mix_seed({options.seed, static_cast<uint64_t>(epoch), 0x5EED}));
    // Fisher-Yates with our own index draw: std::shuffle's use of the engine is not specified,
    // and the order must be the same with every standard library.
    for (int64_t i = n - 1; i > 0; --i) {
      const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
      std::swap(order[i], order[j]);
    }
  }
  std::vector<std::vector<int64_t>> batches;
  std::vector<int64_t> buckets[2];
  for (int64_t position : order) {
    const coco::Image& image = dataset.images[records[position].image_index];
    auto& bucket = buckets[options.group_by_aspect_ratio && image.width < image.height ? 1 : 0];
    bucket.push_back(position);
    if (static_cast<int64_t>(bucket.size()) == global) {
      batches.push_back(std::move(bucket));
      bucket.clear();
    }
  }
  // What is left of both orientations makes mixed batches, so every epoch has the same count.
  std::vector<int64_t> rest = buckets[0];
  rest.insert(rest.end(), buckets[1].begin(), buckets[1].end());
  for (std::size_t start = 0; start < rest.size(); start += global) {
    std::vector<int64_t> batch(rest.begin() + start,
                               rest.begin() + std::min<std::size_t>(start + global, rest.size()));
    if (static_cast<int64_t>(batch.size()) < global) {
      if (options.drop_last || n == 0) break;
      // Every rank needs its share: fill the last batch from the start of the order.
      for (std::size_t k = 0; static_cast<int64_t>(batch.size()) < global; ++k)
        batch.push_back(order[k % order.size()]);
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

TrainLoader::TrainLoader(const coco::Dataset& dataset, std::vector<coco::TrainingRecord> records,
                         ImageFolder images, structures::LabelMap labels,
                         TransformOptions transform, TrainLoaderOptions options)
    : dataset_(dataset),
      records_(std::move(records)),
      images_(std::move(images)),
      labels_(std::move(labels)),
      transform_(std::move(transform)),
      options_(options) {
  TORCH_CHECK(options_.batch_size >= 1, "batch size must be at least 1");
  TORCH_CHECK(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size,
              "bad rank ", options_.rank, " of ", options_.world_size);
  if (records_.empty()) throw Error("the training set has no usable image");
  options_.prefetch = std::max<int64_t>(options_.prefetch, 1);
  for (int64_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

TrainLoader::~TrainLoader() { stop_workers(); }

void TrainLoader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

int64_t TrainLoader::batches_per_epoch() const {
  const int64_t global = options_.batch_size * options_.world_size;
  const int64_t n = static_cast<int64_t>(records_.size());
  return options_.drop_last ? n / global : (n + global - 1) / global;
}

void TrainLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  auto plan = plan_epoch(dataset_, records_, options_, epoch);
  std::lock_guard lock(mutex_);
  plan_ = std::move(plan);
  epoch_ = epoch;
  next_to_make_ = next_to_hand_out_ = std::clamp<int64_t>(first_batch, 0, plan_.size());
  ++generation_;
  slots_.clear();  // work in flight for the old plan finds no slot and is dropped
  work_ready_.notify_all();
}

TrainBatch TrainLoader::make_batch(int64_t epoch, int64_t index,
                                   const std::vector<int64_t>& global) const {
  TrainBatch batch;
  batch.epoch = epoch;
  batch.index = index;
  std::vector<at::Tensor> images;
  // The seed depends on the place in the global batch, not on the rank or the thread.
  auto seed_of = [&](std::size_t slot) {
    return mix_seed({options_.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(index),
                     static_cast<uint64_t>(slot)});
  };
  // Padded to the largest image of the whole global batch, so every rank's tensors (and the
  // anchors over the padding) are those of a single process running the global batch.
  for (std::size_t slot = 0; slot < global.size(); ++slot) {
    const coco::Image& image = dataset_.images[records_[global[slot]].image_index];
    const auto size = sample_geometry({image.height, image.width}, transform_, seed_of(slot)).size;
    batch.padded_size = {std::max(batch.padded_size[0], size[0]),
                         std::max(batch.padded_size[1], size[1])};
  }
  for (int64_t i = 0; i < options_.batch_size; ++i) {
    const int64_t slot = options_.rank * options_.batch_size + i;
    TrainSample sample = read_train_sample(dataset_, records_[global[slot]], images_, labels_,
                                           transform_, seed_of(static_cast<std::size_t>(slot)));
    batch.image_ids.push_back(sample.image_id);
    if (options_.preprocess_on_device && options_.pin_memory) {  // copied without waiting
      sample.image = sample.image.pin_memory();
      sample.targets.masks = sample.targets.masks.pin_memory();
    }
    batch.unfinished.push_back(std::move(sample));
  }
  if (!options_.preprocess_on_device) finish(batch, c10::Device(c10::kCPU));
  return batch;
}

void TrainLoader::finish(TrainBatch& batch, const c10::Device& device) const {
  std::vector<at::Tensor> images;
  for (TrainSample& sample : batch.unfinished) {
    sample.image = sample.image.to(device, /*non_blocking=*/true);
    sample.targets = sample.targets.to(device, /*non_blocking=*/true);
    finish_train_sample(sample, transform_);
    images.push_back(std::move(sample.image));
    batch.targets.push_back(std::move(sample.targets));
  }
  batch.unfinished.clear();
  // Pinned only where the batch is still to be copied to a GPU.
  const bool pin = options_.pin_memory && device.is_cpu();
  batch.images = structures::pad_images(images, transform_.pad_to_stride, pin, batch.padded_size);
}

TrainBatch TrainLoader::hand_out(TrainBatch batch) const {
  if (!batch.unfinished.empty()) {
    finish(batch, options_.device);  // the device stage: images arrive decoded only
    return batch;
  }
  batch.images.tensor = batch.images.tensor.to(options_.device, /*non_blocking=*/true);
  for (auto& targets : batch.targets) targets = targets.to(options_.device, /*non_blocking=*/true);
  return batch;
}

void TrainLoader::worker_loop() {
  // Each worker makes whole batches single-threaded; the training thread keeps the cores.
  c10::ParallelGuard single_threaded(true);
  std::unique_lock lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [&] {
      return stopping_ || (next_to_make_ < static_cast<int64_t>(plan_.size()) &&
                           next_to_make_ < next_to_hand_out_ + options_.prefetch);
    });
    if (stopping_) return;
    const int64_t index = next_to_make_++;
    const int64_t epoch = epoch_;
    const int64_t generation = generation_;
    // The plan is read under the lock: start_epoch may replace it.
    const std::vector<int64_t> global = plan_[index];
    slots_.push_back({index, std::nullopt, nullptr});
    std::optional<TrainBatch> made;
    std::exception_ptr error;
    lock.unlock();
    try {
      made = make_batch(epoch, index, global);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (auto& slot : slots_) {
      if (generation == generation_ && slot.index == index) {
        slot.batch = std::move(made);
        slot.error = error;
        break;
      }
    }
    result_ready_.notify_all();
  }
}

std::optional<TrainBatch> TrainLoader::next() {
  std::optional<TrainBatch> batch = next_made();
  if (batch) batch = hand_out(std::move(*batch));
  return batch;
}

std::optional<TrainBatch> TrainLoader::next_made() {
  std::unique_lock lock(mutex_);
  if (next_to_hand_out_ >= static_cast<int64_t>(plan_.size())) return std::nullopt;
  if (workers_.empty()) {
    const int64_t index = next_to_hand_out_++;
    return make_batch(epoch_, index, plan_[index]);
  }
  const int64_t index = next_to_hand_out_;
  result_ready_.wait(lock, [&] {
    return !slots_.empty() && slots_.front().index == index &&
           (slots_.front().batch || slots_.front().error);
  });
  Slot slot = std::move(slots_.front());
  slots_.pop_front();
  ++next_to_hand_out_;
  work_ready_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

}  // namespace mrcnn::data
