// The training loop: batches from the loader, the model's losses under optional autocast, a
// scaled backward, optional gradient clipping, an SGD step at the scheduled learning rate,
// logging, checkpoints every snapshot, evaluation with best_model, and exact resume.
//
// Every random draw of a step (RPN and RoI sampling) comes from a generator per image seeded by
// (seed, iteration, slot in the global batch), and every augmentation from (seed, epoch, batch,
// slot), so a resumed run continues exactly as the uninterrupted run would have on CPU, and N
// ranks draw what one process with the N ranks' images would.
#pragma once

#include <c10/core/Device.h>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mrcnn/data/train_loader.h"
#include "mrcnn/engine/amp.h"
#include "mrcnn/engine/checkpoint.h"
#include "mrcnn/engine/distributed.h"
#include "mrcnn/engine/gradient_reducer.h"
#include "mrcnn/engine/lr_schedule.h"
#include "mrcnn/engine/optimizer.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::engine {

struct EvalScores {
  double bbox_ap = 0;
  double segm_ap = 0;
};

struct TrainerOptions {
  std::string output_dir;  // checkpoints, metrics.jsonl, training_curves.png
  int64_t epochs = 12;
  int64_t snapshot_epoch = 1;       // a checkpoint every this many epochs, and model_final
  int64_t snapshot_iterations = 0;  // also one ("last") every this many steps (0: off)
  int64_t log_iter = 20;
  int64_t max_iterations = 0;  // stop after this many steps in all (0: the whole schedule)
  bool amp = false;
  at::ScalarType amp_dtype = at::kBFloat16;
  uint64_t seed = 0;
  LrSchedule schedule;  // milestones in iterations
  SGDOptions sgd;
  // Data parallelism: gradients and loss values are averaged over the group's ranks, initial
  // weights come from rank 0, and only rank 0 writes checkpoints, metrics and curves.
  // nullptr: a single process.
  ProcessGroup* group = nullptr;
  // With --eval: scores the model after each snapshot; best_model keeps the best bbox AP.
  std::function<EvalScores(modeling::MaskRCNN&)> evaluate;
  std::ostream* log = nullptr;  // console lines (rank 0); nullptr: silent
};

struct TrainSummary {
  int64_t iterations = 0;  // steps done in all, including before a resume
  int64_t skipped_steps = 0;
  double seconds = 0;
};

class Trainer {
 public:
  Trainer(modeling::MaskRCNN model, data::TrainLoader& loader, const c10::Device& device,
          TrainerOptions options);

  // Restores weights, optimiser, scaler and position from a checkpoint written by this class.
  void resume(const std::string& checkpoint);
  TrainSummary run();

  int64_t total_iterations() const;

 private:
  // Sums over the steps since the last log line.
  struct LogWindow {
    std::vector<double> loss_sums;
    int64_t losses_counted = 0;  // steps with finite losses
    int64_t steps = 0;
    double batch_seconds = 0, data_seconds = 0;
    int64_t host_syncs = 0;  // waits for a CUDA device (counted on CUDA only)
    void add(const std::vector<double>& losses, double batch, double data, int64_t syncs) {
      if (!losses.empty()) {
        loss_sums.resize(losses.size(), 0.0);
        for (std::size_t k = 0; k < losses.size(); ++k) loss_sums[k] += losses[k];
        ++losses_counted;
      }
      ++steps;
      batch_seconds += batch;
      data_seconds += data;
      host_syncs += syncs;
    }
  };

  // One optimisation step on a batch; returns the losses (means over ranks), empty when a
  // mixed-precision step was skipped.
  std::vector<double> train_step(const data::TrainBatch& batch, double lr, TrainSummary& summary);
  void log_window(LogWindow& window, const data::TrainBatch& batch, double lr, int64_t total,
                  double seconds_per_step, TrainSummary& summary);
  // Checkpoint (and with --eval, evaluation and best_model) at the end of an epoch.
  void finish_epoch(int64_t epoch, bool final);
  void save(const std::string& name);
  bool is_root() const { return options_.group == nullptr || options_.group->rank() == 0; }
  int64_t world_size() const {
    return options_.group == nullptr ? 1 : options_.group->world_size();
  }
  void write_metrics(const std::string& json_line);
  void write_curves() const;

  // For the curves at the end: (iteration, loss) per log line, (epoch, scores) per evaluation.
  std::vector<std::pair<int64_t, std::vector<double>>> loss_history_;
  std::vector<std::string> loss_names_;
  std::vector<std::pair<int64_t, EvalScores>> eval_history_;

  modeling::MaskRCNN model_;
  data::TrainLoader& loader_;
  c10::Device device_;
  // On CUDA, the host's waits for the device are counted step by step (metrics.jsonl).
  bool count_host_syncs_ = false;
  TrainerOptions options_;
  SGD optimizer_;
  GradScaler scaler_;
  std::unique_ptr<GradientReducer> reducer_;  // several ranks only
  TrainerPosition position_;
  int64_t consecutive_skips_ = 0;
};

}  // namespace mrcnn::engine
