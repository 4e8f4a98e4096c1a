// Training batches: a per-epoch shuffled order (the same for a seed and epoch on every run and
// every rank), batches of images with the same orientation (landscape or portrait, so padding
// wastes little), made by worker threads ahead of time and handed out in order.
//
// Distributed runs cut every global batch of batch_size x world_size images into one slice
// per rank, so N ranks with batch B see exactly the images one process with batch N x B sees.
//
// Batches are handed out ready for the model, on the training device: either made whole by
// the workers and copied over, or (preprocess_on_device) decoded by the workers and finished
// on the device by next().
#pragma once

#include <c10/core/Device.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mrcnn/coco/training_view.h"
#include "mrcnn/data/train_sample.h"
#include "mrcnn/structures/image_list.h"
#include "mrcnn/structures/instances.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::data {

struct TrainLoaderOptions {
  int64_t batch_size = 1;  // per rank
  bool shuffle = true;
  bool drop_last = true;
  bool group_by_aspect_ratio = true;
  int64_t workers = 2;            // 0: batches are made on the calling thread
  int64_t prefetch = 4;           // batches made ahead of the one being trained on
  c10::Device device{c10::kCPU};  // where next() hands batches out
  bool pin_memory = false;        // page-locked host tensors, for asynchronous copies to a GPU
  // Workers only decode; next() resizes, flips, normalises and pads on `device`.
  bool preprocess_on_device = false;
  uint64_t seed = 0;
  int64_t rank = 0;
  int64_t world_size = 1;
};

struct TrainBatch {
  int64_t epoch = 0;
  int64_t index = 0;  // batch index within the epoch
  structures::ImageList images;
  std::vector<structures::Instances> targets;
  std::vector<int64_t> image_ids;
  // Inside the loader, until the batch is finished: the read samples (images and targets
  // are empty) and the size to pad to (that of the whole global batch).
  std::vector<TrainSample> unfinished;
  structures::ImageSize padded_size{};
};

// The global batches of one epoch, as positions into `records`, before the per-rank split.
std::vector<std::vector<int64_t>> plan_epoch(const coco::Dataset& dataset,
                                             const std::vector<coco::TrainingRecord>& records,
                                             const TrainLoaderOptions& options, int64_t epoch);

class TrainLoader {
 public:
  TrainLoader(const coco::Dataset& dataset, std::vector<coco::TrainingRecord> records,
              ImageFolder images, structures::LabelMap labels, TransformOptions transform,
              TrainLoaderOptions options);
  ~TrainLoader();
  TrainLoader(const TrainLoader&) = delete;
  TrainLoader& operator=(const TrainLoader&) = delete;

  int64_t batches_per_epoch() const;
  int64_t num_images() const { return static_cast<int64_t>(records_.size()); }
  const c10::Device& device() const { return options_.device; }

  // Starts `epoch` at batch `first_batch` (resuming mid-epoch), dropping any work in flight.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The epoch's next batch on the training device, or nothing at its end. A worker's error
  // is rethrown here.
  std::optional<TrainBatch> next();

 private:
  TrainBatch make_batch(int64_t epoch, int64_t index, const std::vector<int64_t>& global) const;
  // Makes an unfinished batch's images and targets on `device`.
  void finish(TrainBatch& batch, const c10::Device& device) const;
  // The batch as the model takes it: finished, on the training device.
  TrainBatch hand_out(TrainBatch batch) const;
  std::optional<TrainBatch> next_made();
  void stop_workers();
  void worker_loop();

  const coco::Dataset& dataset_;
  std::vector<coco::TrainingRecord> records_;
  ImageFolder images_;
  structures::LabelMap labels_;
  TransformOptions transform_;
  TrainLoaderOptions options_;

  // Work of the current epoch, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable work_ready_, result_ready_;
  std::vector<std::vector<int64_t>> plan_;
  int64_t epoch_ = 0;
  int64_t generation_ = 0;  // counts start_epoch calls; stale work is dropped
  int64_t next_to_make_ = 0;
  int64_t next_to_hand_out_ = 0;
  struct Slot {
    int64_t index;
    std::optional<TrainBatch> batch;
    std::exception_ptr error;
  };
  std::deque<Slot> slots_;  // made or being made, in batch order
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mrcnn::data
