// Training batches: a per-epoch shuffled order (the same for a seed and epoch on every run and
// every rank), batches of images with the same orientation (landscape or portrait, so padding
// wastes little), made by worker threads ahead of time and handed out in order.
//
// Distributed runs cut every global batch of batch_size x world_size images into one slice
// per rank, so N ranks with batch B see exactly the images one process with batch N x B sees.
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

#include "mrcnn/data/coco.h"
#include "mrcnn/data/train_sample.h"
#include "mrcnn/modeling/targets.h"
#include "mrcnn/modeling/transform.h"

namespace mrcnn::data {

struct TrainLoaderOptions {
  int64_t batch_size = 1;  // per rank
  bool shuffle = true;
  bool drop_last = true;
  bool group_by_aspect_ratio = true;
  int64_t workers = 2;         // 0: batches are made on the calling thread
  int64_t prefetch = 4;        // batches made ahead of the one being trained on
  int64_t pad_to_stride = 32;  // batch tensors are padded to a multiple of this
  bool pin_memory = false;     // page-locked batch tensors, for asynchronous copies to a GPU
  // Workers only decode; finish() resizes, flips, normalises and pads on the training device.
  bool finish_on_device = false;
  uint64_t seed = 0;
  int64_t rank = 0;
  int64_t world_size = 1;
};

struct TrainBatch {
  int64_t epoch = 0;
  int64_t index = 0;  // batch index within the epoch
  modeling::ImageBatch images;
  std::vector<modeling::ImageTargets> targets;
  std::vector<int64_t> image_ids;
  // With finish_on_device, until TrainLoader::finish: the read samples (images and targets
  // are empty) and the size to pad to (that of the whole global batch).
  std::vector<TrainSample> unfinished;
  int64_t padded_height = 0, padded_width = 0;
};

// The global batches of one epoch, as positions into `records`, before the per-rank split.
std::vector<std::vector<int64_t>> plan_epoch(const CocoDataset& dataset,
                                             const std::vector<TrainingRecord>& records,
                                             const TrainLoaderOptions& options, int64_t epoch);

// Pads images [3, h, w] into one zero-filled [N, 3, H, W] tensor, H and W multiples of stride
// and at least min_height x min_width.
modeling::ImageBatch pad_images(const std::vector<at::Tensor>& images, int64_t stride,
                                bool pin_memory = false, int64_t min_height = 0,
                                int64_t min_width = 0);

class TrainLoader {
 public:
  TrainLoader(const CocoDataset& dataset, std::vector<TrainingRecord> records,
              std::string image_dir, TrainTransformOptions transform, TrainLoaderOptions options);
  ~TrainLoader();
  TrainLoader(const TrainLoader&) = delete;
  TrainLoader& operator=(const TrainLoader&) = delete;

  int64_t batches_per_epoch() const;
  int64_t num_images() const { return static_cast<int64_t>(records_.size()); }

  // Starts `epoch` at batch `first_batch` (resuming mid-epoch), dropping any work in flight.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The epoch's next batch, or nothing at its end. A worker's error is rethrown here.
  std::optional<TrainBatch> next();
  // Makes an unfinished batch's images and targets on `device`; nothing when it is finished.
  void finish(TrainBatch& batch, const c10::Device& device) const;

 private:
  TrainBatch make_batch(int64_t epoch, int64_t index, const std::vector<int64_t>& global) const;
  void stop_workers();
  void worker_loop();

  const CocoDataset& dataset_;
  std::vector<TrainingRecord> records_;
  std::string image_dir_;
  TrainTransformOptions transform_;
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
