#include "mrcnn/engine/hooks.h"

#include <fmt/format.h>

#include <filesystem>

#include "mrcnn/common/file.h"
#include "mrcnn/common/memory.h"
#include "mrcnn/io/image.h"
#include "mrcnn/runtime/device_memory.h"
#include "mrcnn/visualization/plot.h"

namespace mrcnn::engine {
namespace {

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(seconds, 0.0));
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

// COCOeval's summary lines, by the names detectron2 and PaddleDetection log them under.
const std::vector<std::string> kStatNames = {"AP",  "AP50", "AP75",  "APs", "APm", "APl",
                                             "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

// An evaluation in the event file: every summary number as a scalar ("eval/bbox/AP50"), the
// table as text, and the pictures.
void write_evaluation_events(Trainer& trainer, const EvalScores& scores, int64_t step) {
  std::vector<std::pair<std::string, double>> scalars = {{"eval/bbox/AP", scores.bbox_ap},
                                                         {"eval/segm/AP", scores.segm_ap}};
  std::string table = "| metric | bbox | segm |\n|---|---|---|\n";
  if (scores.bbox_stats.size() == kStatNames.size() &&
      scores.segm_stats.size() == kStatNames.size()) {
    scalars.clear();
    for (std::size_t k = 0; k < kStatNames.size(); ++k) {
      scalars.emplace_back("eval/bbox/" + kStatNames[k], scores.bbox_stats[k]);
      scalars.emplace_back("eval/segm/" + kStatNames[k], scores.segm_stats[k]);
      table += fmt::format("| {} | {:.4f} | {:.4f} |\n", kStatNames[k], scores.bbox_stats[k],
                           scores.segm_stats[k]);
    }
  }
  trainer.write_scalars(step, scalars);
  io::EventFileWriter* events = trainer.events();
  if (events == nullptr) return;
  if (scores.bbox_stats.size() == kStatNames.size()) events->add_text("eval/AP table", table, step);
  for (const auto& [name, picture] : scores.pictures) {
    events->add_image("eval/predictions/" + name, picture, step);
  }
  events->flush();
}

}  // namespace

void MetricsHook::after_step(Trainer& trainer, const StepRecord& step) {
  if (!step.losses.empty()) {
    loss_sums_.resize(step.losses.size(), 0.0);
    for (std::size_t k = 0; k < step.losses.size(); ++k) loss_sums_[k] += step.losses[k];
    ++losses_counted_;
  }
  ++steps_;
  step_seconds_ += step.step_seconds;
  data_seconds_ += step.data_seconds;
  if (step.host_syncs) host_syncs_ = host_syncs_.value_or(0) + *step.host_syncs;
  ++run_steps_;
  run_seconds_ += step.step_seconds;
  if (step.iteration % log_iter_ != 0 && !step.last) return;

  const int64_t total = trainer.total_iterations();
  const double eta = run_seconds_ / double(run_steps_) * double(total - step.iteration);
  const double logged = double(std::max<int64_t>(losses_counted_, 1));
  const double steps = double(std::max<int64_t>(steps_, 1));
  const std::vector<std::string>& names = trainer.loss_names();
  std::vector<double> means;
  std::string text;
  // Every number of the line goes to metrics.jsonl and, as a "group/name" tag, to the event
  // file.
  JsonObject line;
  std::vector<std::pair<std::string, double>> scalars;
  const auto add = [&](const char* group, const std::string& name, double value) {
    line.add(name, value);
    scalars.emplace_back(std::string(group) + "/" + name, value);
  };
  line.add("iteration", step.iteration).add("epoch", step.epoch);
  add("train", "lr", step.lr);
  for (std::size_t k = 0; k < loss_sums_.size(); ++k) {
    means.push_back(loss_sums_[k] / logged);
    text += fmt::format(" {}: {:.6f}", names[k], means.back());
    add("train", names[k], means.back());
  }
  const double mean_step = step_seconds_ / steps, mean_data = data_seconds_ / steps;
  const double host_memory = host_peak_rss_mib();
  const std::optional<runtime::DeviceMemoryPeaks> device_memory =
      runtime::take_device_memory_peaks(trainer.device());
  const int64_t skipped = trainer.skipped_steps();
  if (std::ostream* log = trainer.log()) {
    const int64_t per_epoch = trainer.batches_per_epoch();
    *log << fmt::format(
        "Epoch: [{}] [{:>{}}/{}] iter {}/{} lr: {:.6f}{} eta: {} batch_cost: {:.4f} s "
        "data_cost: {:.4f} s {}host mem: {:.0f} MiB{}\n",
        step.epoch, step.batch + 1, std::to_string(per_epoch).size(), per_epoch, step.iteration,
        total, step.lr, text, format_duration(eta), mean_step, mean_data,
        device_memory
            ? fmt::format("{} mem: {:.0f} MiB (reserved {:.0f} MiB) ", trainer.device().str(),
                          device_memory->allocated_mib, device_memory->reserved_mib)
            : std::string(),
        host_memory, skipped ? fmt::format(" skipped_steps: {}", skipped) : std::string());
    log->flush();
  }
  add("time", "batch_time", mean_step);
  add("time", "data_time", mean_data);
  add("time", "eta_seconds", eta);
  add("memory", "host_peak_mib", host_memory);
  if (device_memory) {
    add("memory", "device_allocated_peak_mib", device_memory->allocated_mib);
    add("memory", "device_reserved_peak_mib", device_memory->reserved_mib);
  }
  add("train", "skipped_steps", static_cast<double>(skipped));
  add("train", "loss_scale", trainer.loss_scale());
  if (host_syncs_) add("time", "host_syncs_per_step", double(*host_syncs_) / steps);
  trainer.write_metrics(line);
  trainer.write_scalars(step.iteration, scalars);
  trainer.history().losses.emplace_back(step.iteration, means);

  loss_sums_.clear();
  losses_counted_ = steps_ = 0;
  step_seconds_ = data_seconds_ = 0;
  host_syncs_.reset();
}

void CheckpointHook::after_step(Trainer& trainer, const StepRecord& step) {
  // At the last step too, so that `last` is always the newest position.
  if (snapshot_iterations_ > 0 && (step.iteration % snapshot_iterations_ == 0 || step.last)) {
    trainer.save_checkpoint("last");
  }
}

void CheckpointHook::at_snapshot(Trainer& trainer, const Snapshot& snapshot) {
  trainer.save_checkpoint(snapshot.name);
}

void EvaluationHook::at_snapshot(Trainer& trainer, const Snapshot& snapshot) {
  modeling::MaskRCNN& model = trainer.model();
  model->eval();
  const std::optional<EvalScores> scores = evaluate_(model);
  model->train();
  if (!scores) return;  // another rank scores
  TrainerPosition& position = trainer.position();
  trainer.history().evaluations.emplace_back(snapshot.epoch, *scores);
  trainer.write_metrics(JsonObject()
                            .add("epoch", snapshot.epoch)
                            .add("iteration", position.iteration)
                            .add("bbox_ap", scores->bbox_ap)
                            .add("segm_ap", scores->segm_ap));
  write_evaluation_events(trainer, *scores, position.iteration);
  if (std::ostream* log = trainer.log()) {
    *log << fmt::format("epoch {}: bbox AP {:.4f}, segm AP {:.4f}\n", snapshot.epoch,
                        scores->bbox_ap, scores->segm_ap);
  }
  if (scores->bbox_ap > position.best_ap) {
    position.best_ap = scores->bbox_ap;
    position.best_epoch = snapshot.epoch;
    trainer.save_checkpoint(snapshot.name);
    trainer.save_checkpoint("best_model");
    if (std::ostream* log = trainer.log()) {
      *log << fmt::format("best_model: bbox AP {:.4f} at epoch {}\n", position.best_ap,
                          snapshot.epoch);
    }
  }
}

void CurvesHook::after_train(Trainer& trainer) {
  const TrainingHistory& history = trainer.history();
  if (history.losses.empty() || !trainer.is_root()) return;
  const std::vector<std::string>& names = trainer.loss_names();
  visualization::Panel losses{.title = "Losses by iteration (means per log line)",
                              .x_label = "iteration",
                              .y_label = "loss",
                              .log_y = true};
  for (std::size_t k = 0; k < names.size(); ++k) {
    visualization::Series series{.name = names[k], .smooth = true};
    for (const auto& [iteration, values] : history.losses) {
      if (k >= values.size()) continue;  // a window of skipped steps only
      series.x.push_back(double(iteration));
      series.y.push_back(values[k]);
    }
    losses.series.push_back(std::move(series));
  }
  std::vector<visualization::Panel> panels = {std::move(losses)};
  if (!history.evaluations.empty()) {
    visualization::Series bbox{.name = "bbox AP", .markers = true, .label_values = true};
    visualization::Series segm{.name = "segm AP", .markers = true, .label_values = true};
    double best = 0;
    for (const auto& [epoch, scores] : history.evaluations) {
      bbox.x.push_back(double(epoch + 1));  // evaluated after this many epochs
      bbox.y.push_back(scores.bbox_ap);
      segm.x.push_back(double(epoch + 1));
      segm.y.push_back(scores.segm_ap);
      best = std::max({best, scores.bbox_ap, scores.segm_ap});
    }
    panels.push_back({.title = "COCO AP (IoU .50:.95) at each evaluation",
                      .series = {bbox, segm},
                      .x_label = "epochs trained",
                      .y_label = "AP",
                      .y_range = std::make_pair(0.0, std::min(1.0, std::max(0.1, best * 1.25))),
                      .integer_x = true});
  }
  io::write_image_file(visualization::plot_panels(panels, 900, 380),
                       join_path(trainer.options().output_dir, "training_curves.png"));
}

}  // namespace mrcnn::engine
