// Dynamic batching with a stand-in model that records each batch: who goes together, how
// long the first waits, what a full queue and a deadline do, and that a failing batch fails
// only its own requests.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "mrcnn/serving/batcher.h"

namespace mrcnn::serving {
namespace {

using namespace std::chrono_literals;

// Images are 1-element tensors carrying an id; the "model" answers each with one detection
// whose score is that id, after `delay`.
struct FakeModel {
  std::chrono::milliseconds delay{0};
  std::mutex mutex;
  std::vector<std::vector<int64_t>> batches;
  std::atomic<bool> fail{false};

  Batcher::RunBatch run() {
    return [this](const std::vector<at::Tensor>& images, double) {
      std::this_thread::sleep_for(delay);
      if (fail) throw std::runtime_error("out of memory");
      std::vector<structures::Instances> out;
      std::vector<int64_t> ids;
      for (const at::Tensor& image : images) {
        structures::Instances found;
        found.scores = image.to(at::kFloat);
        ids.push_back(image.item<int64_t>());
        out.push_back(found);
      }
      std::lock_guard lock(mutex);
      batches.push_back(ids);
      return out;
    };
  }
};

at::Tensor image(int64_t id) { return at::full({1}, id, at::kLong); }
constexpr auto kNoDeadline = Clock::time_point::max();

TEST(Batcher, ConcurrentRequestsShareABatchAndGetTheirOwnAnswers) {
  FakeModel model;
  Batcher batcher({.max_batch = 4, .max_wait = 500ms, .workers = 1, .queue_capacity = 16},
                  model.run());
  auto a = batcher.submit({image(1), image(2)}, 0, kNoDeadline);
  auto b = batcher.submit({image(3)}, 0, kNoDeadline);
  auto c = batcher.submit({image(4), image(5)}, 0, kNoDeadline);
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->wait(), Ticket::Status::kDone);
  ASSERT_EQ(b->wait(), Ticket::Status::kDone);
  ASSERT_EQ(c->wait(), Ticket::Status::kDone);
  // A full batch leaves without waiting out max_wait; the fifth image goes after.
  ASSERT_EQ(model.batches.size(), 2u);
  EXPECT_EQ(model.batches[0], (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(model.batches[1], (std::vector<int64_t>{5}));
  EXPECT_EQ(a->outcomes()[1].detections.scores.item<float>(), 2);
  EXPECT_EQ(b->outcomes()[0].detections.scores.item<float>(), 3);
  EXPECT_EQ(c->outcomes()[0].detections.scores.item<float>(), 4);
  EXPECT_EQ(c->outcomes()[0].batch_size, 4);
  EXPECT_EQ(c->outcomes()[1].batch_size, 1);
}

TEST(Batcher, ALoneImageWaitsMaxWaitForCompany) {
  FakeModel model;
  Batcher batcher({.max_batch = 4, .max_wait = 50ms}, model.run());
  const auto start = Clock::now();
  auto ticket = batcher.submit({image(1)}, 0, kNoDeadline);
  ASSERT_EQ(ticket->wait(), Ticket::Status::kDone);
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_GE(ticket->outcomes()[0].queue_ms, 50);
}

TEST(Batcher, AFullQueueRefusesAndRoomComesBack) {
  FakeModel model;
  model.delay = 100ms;
  Batcher batcher({.max_batch = 1, .max_wait = 0ms, .workers = 1, .queue_capacity = 2},
                  model.run());
  auto running = batcher.submit({image(1)}, 0, kNoDeadline);
  while (batcher.queue_depth() > 0) std::this_thread::sleep_for(1ms);  // taken by the worker
  auto queued = batcher.submit({image(2), image(3)}, 0, kNoDeadline);
  ASSERT_TRUE(queued);
  EXPECT_EQ(batcher.submit({image(4)}, 0, kNoDeadline), nullptr);
  EXPECT_EQ(batcher.queue_depth(), 2);
  ASSERT_EQ(queued->wait(), Ticket::Status::kDone);
  EXPECT_NE(batcher.submit({image(5)}, 0, kNoDeadline), nullptr);
}

TEST(Batcher, APassedDeadlineTimesOutAndIsNotComputed) {
  FakeModel model;
  model.delay = 100ms;
  Batcher batcher({.max_batch = 1, .max_wait = 0ms}, model.run());
  auto first = batcher.submit({image(1)}, 0, kNoDeadline);
  while (batcher.queue_depth() > 0) std::this_thread::sleep_for(1ms);
  auto hurried = batcher.submit({image(2)}, 0, Clock::now() + 20ms);
  EXPECT_EQ(hurried->wait(), Ticket::Status::kTimedOut);
  ASSERT_EQ(first->wait(), Ticket::Status::kDone);
  batcher.close();
  ASSERT_EQ(model.batches.size(), 1u);  // image 2 was dropped, not run
  EXPECT_EQ(model.batches[0], (std::vector<int64_t>{1}));
}

TEST(Batcher, AFailingBatchFailsItsRequestsOnly) {
  FakeModel model;
  Batcher batcher({.max_batch = 2, .max_wait = 0ms}, model.run());
  model.fail = true;
  auto failed = batcher.submit({image(1)}, 0, kNoDeadline);
  ASSERT_EQ(failed->wait(), Ticket::Status::kFailed);
  EXPECT_EQ(failed->error(), "out of memory");
  model.fail = false;
  auto fine = batcher.submit({image(2)}, 0, kNoDeadline);
  EXPECT_EQ(fine->wait(), Ticket::Status::kDone);
}

TEST(Batcher, CloseRunsWhatIsQueuedThenRefuses) {
  FakeModel model;
  model.delay = 20ms;
  Batcher batcher({.max_batch = 2, .max_wait = 500ms, .workers = 2, .queue_capacity = 16},
                  model.run());
  std::vector<std::shared_ptr<Ticket>> tickets;
  for (int64_t i = 0; i < 5; ++i) tickets.push_back(batcher.submit({image(i)}, 0, kNoDeadline));
  batcher.close();  // does not wait out max_wait
  for (const auto& ticket : tickets) EXPECT_EQ(ticket->wait(), Ticket::Status::kDone);
  int64_t images = 0;
  for (const auto& batch : model.batches) images += static_cast<int64_t>(batch.size());
  EXPECT_EQ(images, 5);
  EXPECT_EQ(batcher.submit({image(9)}, 0, kNoDeadline), nullptr);
}

TEST(Batcher, TheBatchRunsAtItsLowestScoreThreshold) {
  std::vector<double> seen;
  Batcher batcher({.max_batch = 3, .max_wait = 200ms},
                  [&](const std::vector<at::Tensor>& images, double min_score) {
                    seen.push_back(min_score);
                    return std::vector<structures::Instances>(images.size());
                  });
  auto a = batcher.submit({image(1)}, 0.5, kNoDeadline);
  auto b = batcher.submit({image(2)}, 0.25, kNoDeadline);
  auto c = batcher.submit({image(3)}, 0.75, kNoDeadline);
  c->wait();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], 0.25);
}

}  // namespace
}  // namespace mrcnn::serving
