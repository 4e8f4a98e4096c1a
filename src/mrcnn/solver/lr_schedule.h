// The learning rate at each iteration: linear warmup from base_lr * start_factor to base_lr,
// times gamma for every milestone passed (PaddleDetection's LinearWarmup + PiecewiseDecay).
#pragma once

#include <cstdint>
#include <vector>

namespace mrcnn::solver {

struct LrSchedule {
  double base_lr = 0.01;
  double warmup_start_factor = 0.001;
  int64_t warmup_iterations = 1000;
  std::vector<int64_t> milestones;  // iterations
  double gamma = 0.1;

  double at(int64_t iteration) const {
    double lr = base_lr;
    for (int64_t m : milestones) {
      if (iteration >= m) lr *= gamma;
    }
    if (iteration < warmup_iterations) {
      const double alpha = double(iteration) / double(warmup_iterations);
      lr *= warmup_start_factor * (1 - alpha) + alpha;
    }
    return lr;
  }
};

}  // namespace mrcnn::solver
