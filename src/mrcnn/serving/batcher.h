// Dynamic batching: images of concurrent requests that arrive within max_wait of one another
// run through the model together, up to max_batch at a time, and each request gets its own
// images' results back. The queue is bounded (a full queue refuses, and the server answers
// 503), and a request past its deadline is dropped from the queue rather than computed for
// nobody.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mrcnn/structures/instances.h"

namespace mrcnn::serving {

using Clock = std::chrono::steady_clock;

// What one image of a request got.
struct ImageOutcome {
  structures::Instances detections;
  double queue_ms = 0;      // from submission to the start of its batch
  double inference_ms = 0;  // its batch's time in the model
  int64_t batch_size = 0;   // images in its batch
};

// One request's images on their way through the batcher.
class Ticket {
 public:
  enum class Status { kDone, kTimedOut, kFailed };
  explicit Ticket(std::size_t images, Clock::time_point deadline);

  // Blocks until every image is done, one failed, or the deadline passed (then the images
  // still queued are dropped).
  Status wait();
  // After kDone: one outcome per image, in order. After kFailed: why.
  std::vector<ImageOutcome>& outcomes() { return outcomes_; }
  const std::string& error() const { return error_; }

 private:
  friend class Batcher;
  void complete(std::size_t index, ImageOutcome outcome);
  void fail(const std::string& error);
  bool abandoned();  // the caller stopped waiting

  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<ImageOutcome> outcomes_;
  std::size_t remaining_;
  std::string error_;
  bool failed_ = false, abandoned_ = false;
  Clock::time_point deadline_;
};

class Batcher {
 public:
  // Runs the model over a batch; min_score is the lowest score threshold of the batch's
  // requests. May throw: the batch's requests then fail with the message.
  using RunBatch = std::function<std::vector<structures::Instances>(const std::vector<at::Tensor>&,
                                                                    double min_score)>;
  // Told of every batch run: its size and its time in the model.
  using BatchObserver = std::function<void(int64_t images, double seconds)>;

  struct Options {
    int64_t max_batch = 4;
    std::chrono::microseconds max_wait{5000};
    int64_t workers = 1;          // batches in flight at once
    int64_t queue_capacity = 64;  // images waiting, at most
  };

  Batcher(Options options, RunBatch run, BatchObserver observer = {});
  ~Batcher();  // close()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues the images; nullptr when the queue has no room for them all, or after close().
  // deadline: Clock::time_point::max() for none.
  std::shared_ptr<Ticket> submit(std::vector<at::Tensor> images, double min_score,
                                 Clock::time_point deadline);
  int64_t queue_depth() const;
  // Runs what is queued, then stops the workers; later submits are refused.
  void close();

 private:
  struct Job {
    std::shared_ptr<Ticket> ticket;
    std::size_t index;
    at::Tensor image;
    double min_score;
    Clock::time_point queued;
  };
  void work();
  std::vector<Job> next_batch(std::unique_lock<std::mutex>& lock);
  void run_batch(std::vector<Job> batch);

  Options options_;
  RunBatch run_;
  BatchObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  bool closing_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mrcnn::serving
