// The trainer's standard hooks, each one job. build/train_job adds them in this order:
// metrics (log lines, metrics.jsonl, event file), checkpoints, evaluation with best_model,
// curves.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "mrcnn/engine/trainer.h"

namespace mrcnn::engine {

// Every log_iter steps (and at the last): one console line and one metrics.jsonl line with
// the losses averaged over the window, lr, eta, step and data time, device memory peaks (where
// the device reports them) and peak host memory, skipped steps, the loss scale and (on CUDA)
// host waits per step, the same numbers to the event file; the means go to the history.
class MetricsHook : public TrainerHook {
 public:
  explicit MetricsHook(int64_t log_iter) : log_iter_(std::max<int64_t>(log_iter, 1)) {}
  void after_step(Trainer& trainer, const StepRecord& step) override;

 private:
  int64_t log_iter_;
  // Sums over the steps since the last log line.
  std::vector<double> loss_sums_;
  int64_t losses_counted_ = 0;  // steps with finite losses
  int64_t steps_ = 0;
  double step_seconds_ = 0, data_seconds_ = 0;
  std::optional<int64_t> host_syncs_;
  // Over the whole run, for the eta.
  int64_t run_steps_ = 0;
  double run_seconds_ = 0;
};

// Checkpoints at every snapshot (`<epoch>`, `model_final`), and `last` every
// snapshot_iterations steps (0: never) and at the run's last step.
class CheckpointHook : public TrainerHook {
 public:
  explicit CheckpointHook(int64_t snapshot_iterations)
      : snapshot_iterations_(snapshot_iterations) {}
  void after_step(Trainer& trainer, const StepRecord& step) override;
  void at_snapshot(Trainer& trainer, const Snapshot& snapshot) override;

 private:
  int64_t snapshot_iterations_;
};

// Evaluates the model at every snapshot (after its checkpoint), reports the APs (and to the
// event file the twelve COCO numbers, the table and the pictures), and keeps the best bbox AP
// as `best_model` (the snapshot is written again, so that a resume from it knows
// the best score). `evaluate` gets the model in eval mode; on ranks other than 0 of a sharded
// evaluation it returns nothing.
class EvaluationHook : public TrainerHook {
 public:
  using Evaluate = std::function<std::optional<EvalScores>(modeling::MaskRCNN&)>;
  explicit EvaluationHook(Evaluate evaluate) : evaluate_(std::move(evaluate)) {}
  void at_snapshot(Trainer& trainer, const Snapshot& snapshot) override;

 private:
  Evaluate evaluate_;
};

// training_curves.png at the end: losses by iteration (log scale, smoothed over the raw
// points) and the AP of each evaluation.
class CurvesHook : public TrainerHook {
 public:
  void after_train(Trainer& trainer) override;
};

}  // namespace mrcnn::engine
