// A one-line progress report on stderr: done/total, rate and time left. An update with done
// 0 (or the first one) starts the clock; the line ends when done reaches total.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace mrcnn::cli {

class Progress {
 public:
  explicit Progress(std::string what) : what_(std::move(what)) {}

  void update(int64_t done, int64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (!running_ || done == 0) start_ = now;
    running_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = done / std::max(seconds, 1e-9);
    const double left = rate > 0 ? (total - done) / rate : 0;
    const int width = 30;
    const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\r%s [%s%s] %lld/%lld  %.2f images/s  eta %.0f s ", what_.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), rate, left);
    if (done >= total) {
      std::fprintf(stderr, "\n");
      running_ = false;
    }
    std::fflush(stderr);
  }

 private:
  std::string what_;
  bool running_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace mrcnn::cli
