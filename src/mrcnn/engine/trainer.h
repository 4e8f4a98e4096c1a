// The training loop: batches from the loader, the model's losses under optional autocast, a
// scaled backward, optional gradient clipping, an SGD step at the scheduled learning rate, and
// exact resume. Everything else -- logging and metrics, checkpoints, evaluation and the best
// model, curves -- is a hook (hooks.h), as in detectron2 (HookBase) and PaddleDetection
// (callbacks).
//
// Every random draw of a step (RPN and RoI sampling) comes from a generator per image seeded by
// (seed, iteration, slot in the global batch), and every augmentation from (seed, epoch, batch,
// slot), so a resumed run continues exactly as the uninterrupted run would have on CPU, and N
// ranks draw what one process with the N ranks' images would.
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mrcnn/common/json_writer.h"
#include "mrcnn/data/train_loader.h"
#include "mrcnn/distributed/gradient_reducer.h"
#include "mrcnn/distributed/process_group.h"
#include "mrcnn/engine/checkpoint.h"
#include "mrcnn/io/event_file.h"
#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/solver/amp.h"
#include "mrcnn/solver/lr_schedule.h"
#include "mrcnn/solver/optimizer.h"

namespace mrcnn::engine {

struct TrainerOptions {
  std::string output_dir;  // checkpoints, metrics.jsonl, training_curves.png
  int64_t epochs = 12;
  int64_t snapshot_epoch = 1;  // a snapshot every this many epochs, and one at the end
  int64_t max_iterations = 0;  // stop after this many steps in all (0: the whole schedule)
  bool amp = false;
  at::ScalarType amp_dtype = at::kBFloat16;
  uint64_t seed = 0;
  solver::LrSchedule schedule;  // milestones in iterations
  solver::SGDOptions sgd;
  // Data parallelism: gradients and loss values are averaged over the group's ranks, initial
  // weights come from rank 0, and only rank 0 writes files. nullptr: a single process.
  distributed::ProcessGroup* group = nullptr;
  std::ostream* log = nullptr;  // console lines (rank 0); nullptr: silent
  // TensorBoard events (rank 0): one file in this folder for the run, continued after a
  // resume. Empty: none written.
  std::string tensorboard_dir;
};

// What one step did.
struct StepRecord {
  int64_t epoch = 0;
  int64_t batch = 0;      // index within the epoch
  int64_t iteration = 0;  // steps done, this one included
  double lr = 0;
  // Means over ranks, in the order of Trainer::loss_names(); empty for a skipped fp16 step.
  std::vector<double> losses;
  double step_seconds = 0, data_seconds = 0;
  std::optional<int64_t> host_syncs;  // waits for a CUDA device (counted on CUDA only)
  bool last = false;                  // the run's last step
};

// A snapshot point: the end of every snapshot_epoch-th epoch, and the end of the run.
struct Snapshot {
  std::string name;  // "<epoch>" or "model_final"
  int64_t epoch = 0;
  bool final = false;
};

struct EvalScores {
  double bbox_ap = 0;
  double segm_ap = 0;
  // COCOeval's 12 summary numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs,
  // ARm, ARl); empty when the evaluator gives only the two APs.
  std::vector<double> bbox_stats, segm_stats;
  // Pictures of the model's predictions beside the ground truth on a few fixed images, for
  // the event file: (name, uint8 [H, W, 3]).
  std::vector<std::pair<std::string, at::Tensor>> pictures;
};

// What the run produced so far, for the hooks that report it.
struct TrainingHistory {
  std::vector<std::pair<int64_t, std::vector<double>>> losses;  // (iteration, means) per log line
  std::vector<std::pair<int64_t, EvalScores>> evaluations;      // (epoch, scores)
};

class Trainer;

// The hook points, in the order they are called; hooks run in the order they were added.
class TrainerHook {
 public:
  virtual ~TrainerHook() = default;
  virtual void after_step(Trainer& /*trainer*/, const StepRecord& /*step*/) {}
  virtual void at_snapshot(Trainer& /*trainer*/, const Snapshot& /*snapshot*/) {}
  virtual void after_train(Trainer& /*trainer*/) {}
};

struct TrainSummary {
  int64_t iterations = 0;  // steps done in all, including before a resume
  int64_t skipped_steps = 0;
  double seconds = 0;
};

class Trainer {
 public:
  // The model is on the loader's device.
  Trainer(modeling::MaskRCNN model, data::TrainLoader& loader, TrainerOptions options);

  void add_hook(std::unique_ptr<TrainerHook> hook);
  // Restores weights, optimiser, scaler and position from a checkpoint written by this class;
  // metrics.jsonl forgets the steps after that position (they are run again) and records the
  // resume and its reason ("-r", "--auto_resume", "torchrun restart 1").
  void resume(const std::string& checkpoint, const std::string& reason = "-r");
  TrainSummary run();

  // For the hooks.
  modeling::MaskRCNN& model() { return model_; }
  const TrainerOptions& options() const { return options_; }
  const c10::Device& device() const { return device_; }
  // The position is checkpointed; hooks keep their lasting state there (the best AP).
  TrainerPosition& position() { return position_; }
  TrainingHistory& history() { return history_; }
  bool is_root() const { return options_.group == nullptr || options_.group->rank() == 0; }
  int64_t world_size() const {
    return options_.group == nullptr ? 1 : options_.group->world_size();
  }
  int64_t total_iterations() const;
  int64_t batches_per_epoch() const { return loader_.batches_per_epoch(); }
  // The five losses and "loss", their sum; known after the first step.
  const std::vector<std::string>& loss_names() const { return loss_names_; }
  int64_t skipped_steps() const { return skipped_steps_; }
  double loss_scale() const { return scaler_.current_scale(); }
  // Writes checkpoint `name` in the output folder (rank 0; other ranks do nothing).
  void save_checkpoint(const std::string& name);
  // Appends one line to metrics.jsonl (rank 0).
  void write_metrics(const JsonObject& line);
  // Scalars at a step, as (tag, value), to the event file when there is one (rank 0).
  void write_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  // The run's event file for images and text (rank 0, while run() runs); nullptr: none.
  io::EventFileWriter* events() { return events_.get(); }
  std::ostream* log() const { return is_root() ? options_.log : nullptr; }

 private:
  // One optimisation step on a batch; returns the losses (means over ranks), empty when a
  // mixed-precision step was skipped.
  std::vector<double> train_step(const data::TrainBatch& batch, double lr);
  void forget_metrics_after(int64_t iteration);

  modeling::MaskRCNN model_;
  data::TrainLoader& loader_;
  TrainerOptions options_;
  c10::Device device_;
  // On CUDA, the host's waits for the device are counted step by step.
  bool count_host_syncs_ = false;
  solver::SGD optimizer_;
  solver::GradScaler scaler_;
  std::unique_ptr<distributed::GradientReducer> reducer_;  // several ranks only
  std::vector<std::unique_ptr<TrainerHook>> hooks_;
  TrainerPosition position_;
  TrainingHistory history_;
  std::vector<std::string> loss_names_;
  int64_t skipped_steps_ = 0;
  int64_t consecutive_skips_ = 0;
  bool resumed_ = false;
  std::unique_ptr<io::EventFileWriter> events_;
};

}  // namespace mrcnn::engine
