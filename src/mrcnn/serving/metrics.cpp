#include "mrcnn/serving/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mrcnn/common/json_writer.h"

namespace mrcnn::serving {
namespace {

constexpr std::chrono::seconds kRateWindow{10};

std::string number(double value) { return std::isinf(value) ? "+Inf" : json_number(value); }

std::vector<double> batch_bounds(int64_t max_batch) {
  std::vector<double> bounds;
  for (int64_t size = 1; size < max_batch; size *= 2) bounds.push_back(static_cast<double>(size));
  bounds.push_back(static_cast<double>(max_batch));
  return bounds;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value
  ++counts_[static_cast<std::size_t>(at - bounds_.begin())];
  sum_ += value;
  ++count_;
}

std::string Histogram::exposition(const std::string& name) const {
  std::string text;
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const double bound = i < bounds_.size() ? bounds_[i] : INFINITY;
    text += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, number(bound), cumulative);
  }
  text += fmt::format("{}_sum {}\n{}_count {}\n", name, json_number(sum_), name, count_);
  return text;
}

ServerMetrics::ServerMetrics(int64_t max_batch)
    : latency_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      batch_sizes_(batch_bounds(max_batch)) {}

void ServerMetrics::count_request(const std::string& path, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{path, status}];
}

void ServerMetrics::observe_predict_seconds(double seconds) {
  std::lock_guard lock(mutex_);
  latency_.observe(seconds);
}

void ServerMetrics::observe_batch(int64_t images) {
  std::lock_guard lock(mutex_);
  batch_sizes_.observe(static_cast<double>(images));
  images_ += static_cast<uint64_t>(images);
  recent_batches_.emplace_back(std::chrono::steady_clock::now(), images);
}

std::string ServerMetrics::exposition(int64_t queue_depth, int64_t in_flight, bool ready) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  while (!recent_batches_.empty() && now - recent_batches_.front().first > kRateWindow) {
    recent_batches_.pop_front();
  }
  int64_t recent_images = 0;
  for (const auto& [when, images] : recent_batches_) recent_images += images;

  std::string text;
  text +=
      "# HELP mrcnn_http_requests_total HTTP requests answered, by path and status.\n"
      "# TYPE mrcnn_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    text += fmt::format("mrcnn_http_requests_total{{path=\"{}\",status=\"{}\"}} {}\n", key.first,
                        key.second, count);
  }
  text +=
      "# HELP mrcnn_predict_duration_seconds Time from receiving a predict request to its answer.\n"
      "# TYPE mrcnn_predict_duration_seconds histogram\n";
  text += latency_.exposition("mrcnn_predict_duration_seconds");
  text +=
      "# HELP mrcnn_batch_size Images per batch run by the model.\n"
      "# TYPE mrcnn_batch_size histogram\n";
  text += batch_sizes_.exposition("mrcnn_batch_size");
  text += fmt::format(
      "# HELP mrcnn_queue_depth Images waiting for the model.\n"
      "# TYPE mrcnn_queue_depth gauge\nmrcnn_queue_depth {}\n"
      "# HELP mrcnn_in_flight_requests Predict requests being answered.\n"
      "# TYPE mrcnn_in_flight_requests gauge\nmrcnn_in_flight_requests {}\n"
      "# HELP mrcnn_images_total Images run through the model.\n"
      "# TYPE mrcnn_images_total counter\nmrcnn_images_total {}\n"
      "# HELP mrcnn_images_per_second Images run through the model per second, over the last 10 "
      "s.\n"
      "# TYPE mrcnn_images_per_second gauge\nmrcnn_images_per_second {}\n"
      "# HELP mrcnn_ready 1 when the model is loaded and warmed.\n"
      "# TYPE mrcnn_ready gauge\nmrcnn_ready {}\n",
      queue_depth, in_flight, images_,
      json_number(static_cast<double>(recent_images) / static_cast<double>(kRateWindow.count())),
      ready ? 1 : 0);
  return text;
}

}  // namespace mrcnn::serving
