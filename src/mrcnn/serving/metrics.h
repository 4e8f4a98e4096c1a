// The server's numbers in Prometheus' text format (version 0.0.4), for GET /metrics: requests
// by path and status, predict latency, batch sizes, queue depth, images served and their rate.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mrcnn::serving {

// A cumulative histogram with fixed upper bounds, as Prometheus keeps them.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The `name_bucket`, `name_sum` and `name_count` lines.
  std::string exposition(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not yet cumulative; +Inf last
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  explicit ServerMetrics(int64_t max_batch);

  void count_request(const std::string& path, int status);
  void observe_predict_seconds(double seconds);  // a predict request, answered
  void observe_batch(int64_t images);            // a batch run by the model
  // queue_depth and ready are read at scrape time; images/s over the last 10 s.
  std::string exposition(int64_t queue_depth, int64_t in_flight, bool ready);

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram latency_;
  Histogram batch_sizes_;
  uint64_t images_ = 0;
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> recent_batches_;
};

}  // namespace mrcnn::serving
