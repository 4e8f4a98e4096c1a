#include "mrcnn/serving/batcher.h"

#include <algorithm>
#include <exception>

#include <c10/util/Exception.h>

#include "mrcnn/common/error.h"

namespace mrcnn::serving {
namespace {

double milliseconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

Ticket::Ticket(std::size_t images, Clock::time_point deadline)
    : outcomes_(images), remaining_(images), deadline_(deadline) {}

Ticket::Status Ticket::wait() {
  std::unique_lock lock(mutex_);
  const auto settled = [this] { return remaining_ == 0 || failed_; };
  if (deadline_ == Clock::time_point::max()) {
    done_.wait(lock, settled);
  } else if (!done_.wait_until(lock, deadline_, settled)) {
    abandoned_ = true;
    return Status::kTimedOut;
  }
  return failed_ ? Status::kFailed : Status::kDone;
}

void Ticket::complete(std::size_t index, ImageOutcome outcome) {
  std::lock_guard lock(mutex_);
  if (abandoned_ || failed_) return;
  outcomes_[index] = std::move(outcome);
  if (--remaining_ == 0) done_.notify_all();
}

void Ticket::fail(const std::string& error) {
  std::lock_guard lock(mutex_);
  if (failed_) return;
  failed_ = true;
  error_ = error;
  done_.notify_all();
}

bool Ticket::abandoned() {
  std::lock_guard lock(mutex_);
  // Past the deadline counts too: the caller is about to give up, if it has not yet.
  return abandoned_ || failed_ ||
         (deadline_ != Clock::time_point::max() && Clock::now() >= deadline_);
}

Batcher::Batcher(Options options, RunBatch run, BatchObserver observer)
    : options_(options), run_(std::move(run)), observer_(std::move(observer)) {
  if (options_.max_batch < 1) throw Error("max_batch must be at least 1");
  if (options_.workers < 1) throw Error("workers must be at least 1");
  if (options_.queue_capacity < 1) throw Error("the queue must hold at least 1 image");
  if (options_.max_wait.count() < 0) throw Error("max_wait_ms must be >= 0");
  for (int64_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

Batcher::~Batcher() { close(); }

std::shared_ptr<Ticket> Batcher::submit(std::vector<at::Tensor> images, double min_score,
                                        Clock::time_point deadline) {
  auto ticket = std::make_shared<Ticket>(images.size(), deadline);
  if (images.empty()) return ticket;
  {
    std::lock_guard lock(mutex_);
    if (closing_ || static_cast<int64_t>(queue_.size() + images.size()) > options_.queue_capacity) {
      return nullptr;
    }
    const Clock::time_point now = Clock::now();
    for (std::size_t i = 0; i < images.size(); ++i) {
      queue_.push_back({ticket, i, std::move(images[i]), min_score, now});
    }
  }
  changed_.notify_all();
  return ticket;
}

int64_t Batcher::queue_depth() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(queue_.size());
}

void Batcher::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_ && workers_.empty()) return;
    closing_ = true;
  }
  changed_.notify_all();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

std::vector<Batcher::Job> Batcher::next_batch(std::unique_lock<std::mutex>& lock) {
  const auto max_batch = static_cast<std::size_t>(options_.max_batch);
  while (true) {
    changed_.wait(lock, [this] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return {};  // closing, nothing left
    // The oldest image waits at most max_wait for company; a full batch or closing goes at once.
    const Clock::time_point leave = queue_.front().queued + options_.max_wait;
    changed_.wait_until(lock, leave,
                        [&] { return closing_ || queue_.size() >= max_batch || queue_.empty(); });
    std::vector<Job> batch;
    while (!queue_.empty() && batch.size() < max_batch) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      if (!job.ticket->abandoned()) batch.push_back(std::move(job));
    }
    if (!batch.empty()) return batch;
  }
}

void Batcher::work() {
  while (true) {
    std::vector<Job> batch;
    {
      std::unique_lock lock(mutex_);
      batch = next_batch(lock);
      if (batch.empty()) return;
    }
    changed_.notify_all();  // room in the queue; another worker may take what is left
    run_batch(std::move(batch));
  }
}

void Batcher::run_batch(std::vector<Job> batch) {
  std::vector<at::Tensor> images;
  double min_score = 1;
  for (const Job& job : batch) {
    images.push_back(job.image);
    min_score = std::min(min_score, job.min_score);
  }
  const Clock::time_point start = Clock::now();
  std::vector<structures::Instances> detections;
  try {
    detections = run_(images, min_score);
    if (detections.size() != batch.size())
      throw Error("the model returned a wrong number of results");
  } catch (const c10::Error& e) {  // LibTorch's backtrace means nothing to a client
    for (const Job& job : batch) job.ticket->fail(e.what_without_backtrace());
    return;
  } catch (const std::exception& e) {
    for (const Job& job : batch) job.ticket->fail(e.what());
    return;
  }
  const Clock::time_point end = Clock::now();
  const double inference_ms = milliseconds_between(start, end);
  if (observer_) observer_(static_cast<int64_t>(batch.size()), inference_ms / 1000.0);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i].ticket->complete(batch[i].index,
                              {.detections = std::move(detections[i]),
                               .queue_ms = milliseconds_between(batch[i].queued, start),
                               .inference_ms = inference_ms,
                               .batch_size = static_cast<int64_t>(batch.size())});
  }
}

}  // namespace mrcnn::serving
