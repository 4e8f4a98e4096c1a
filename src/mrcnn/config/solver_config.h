// The optimisation sections of a config (LearningRate, OptimizerBuilder).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mrcnn::config {

struct PiecewiseDecay {
  static constexpr const char* kName = "PiecewiseDecay";
  static constexpr bool kTagged =
      true;  // written `- !PiecewiseDecay {...}` as PaddleDetection does
  double gamma = 0.1;
  std::vector<int64_t> milestones = {8, 11};  // epochs, or iterations with use_iters
  bool use_iters = false;                     // our extension: milestones count iterations
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("gamma", s.gamma);
    v("milestones", s.milestones);
    v("use_iters", s.use_iters);
  }
};

struct LinearWarmup {
  static constexpr const char* kName = "LinearWarmup";
  static constexpr bool kTagged = true;
  double start_factor = 0.001;
  int64_t steps = 1000;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("start_factor", s.start_factor);
    v("steps", s.steps);
  }
};

using Scheduler = std::variant<PiecewiseDecay, LinearWarmup>;

struct LearningRateConfig {
  double base_lr = 0.01;
  std::vector<Scheduler> schedulers = {PiecewiseDecay{}, LinearWarmup{}};
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("base_lr", s.base_lr);
    v("schedulers", s.schedulers);
  }
};

struct OptimizerConfig {
  std::string type = "Momentum";
  double momentum = 0.9;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("type", s.type);
    v("momentum", s.momentum);
  }
};

struct RegularizerConfig {
  std::string type = "L2";
  double factor = 0.0001;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("type", s.type);
    v("factor", s.factor);
  }
};

struct OptimizerBuilderConfig {
  double clip_grad_by_norm = 0.0;  // 0 disables clipping
  OptimizerConfig optimizer;
  RegularizerConfig regularizer;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("clip_grad_by_norm", s.clip_grad_by_norm);
    v("optimizer", s.optimizer);
    v("regularizer", s.regularizer);
  }
};

}  // namespace mrcnn::config
