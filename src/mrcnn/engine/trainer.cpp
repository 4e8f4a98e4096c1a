#include "mrcnn/engine/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "mrcnn/common/error.h"
#include "mrcnn/engine/host_syncs.h"
#include "mrcnn/io/image.h"
#include "mrcnn/modeling/weights.h"
#include "mrcnn/visualization/plot.h"

namespace mrcnn::engine {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double peak_memory_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(seconds, 0.0));
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

// Consecutive skipped fp16 steps after which the loss is taken to be broken, not overflowing.
constexpr int64_t kMaxConsecutiveSkips = 50;

}  // namespace

Trainer::Trainer(modeling::MaskRCNN model, data::TrainLoader& loader, const c10::Device& device,
                 TrainerOptions options)
    : model_(std::move(model)),
      loader_(loader),
      device_(device),
      count_host_syncs_(device.is_cuda() && HostSyncCounter::available()),
      options_(std::move(options)),
      optimizer_(*model_, options_.sgd),
      scaler_(device, options_.amp && options_.amp_dtype == at::kHalf) {
  if (is_root()) std::filesystem::create_directories(options_.output_dir);
  if (world_size() > 1) {
    // Every rank starts from rank 0's weights (a resume then loads the same file everywhere).
    std::vector<at::Tensor> state;
    for (const auto& p : model_->parameters()) state.push_back(p);
    for (const auto& b : model_->buffers()) state.push_back(b);
    options_.group->broadcast(state, 0);
    reducer_ = std::make_unique<GradientReducer>(*options_.group, optimizer_.parameters());
  }
}

int64_t Trainer::total_iterations() const {
  const int64_t scheduled = options_.epochs * loader_.batches_per_epoch();
  return options_.max_iterations > 0 ? std::min(scheduled, options_.max_iterations) : scheduled;
}

void Trainer::resume(const std::string& path) {
  const Checkpoint checkpoint = load_checkpoint(path);
  modeling::load_weights(*model_, checkpoint.weights, {}, checkpoint_stem(path));
  optimizer_.load_state(checkpoint.state);
  scaler_.load_state(checkpoint.state);
  position_ = checkpoint.position;
  if (options_.log != nullptr) {
    *options_.log << fmt::format("resumed from {}: epoch {}, batch {}, iteration {}\n",
                                 checkpoint_stem(path), position_.epoch, position_.batch,
                                 position_.iteration);
  }
}

void Trainer::save(const std::string& name) {
  if (!is_root()) return;
  io::NamedTensors state = optimizer_.state();
  for (auto& item : scaler_.state()) state.push_back(std::move(item));
  const std::string stem = (std::filesystem::path(options_.output_dir) / name).string();
  save_checkpoint(stem, *model_, state, position_);
  if (options_.log != nullptr) *options_.log << "saved checkpoint " << stem << "\n";
}

void Trainer::write_metrics(const std::string& json_line) {
  if (!is_root()) return;
  std::ofstream out(std::filesystem::path(options_.output_dir) / "metrics.jsonl", std::ios::app);
  out << json_line << "\n";
}

void Trainer::write_curves() const {
  if (loss_history_.empty() || !is_root()) return;
  std::vector<visualization::Series> losses;
  for (std::size_t k = 0; k < loss_names_.size(); ++k) {
    visualization::Series series{loss_names_[k], {}, {}};
    for (const auto& [iteration, values] : loss_history_) {
      series.x.push_back(double(iteration));
      series.y.push_back(values[k]);
    }
    losses.push_back(std::move(series));
  }
  std::vector<visualization::Panel> panels = {{"losses by iteration", std::move(losses)}};
  if (!eval_history_.empty()) {
    visualization::Series bbox{"bbox AP", {}, {}}, segm{"segm AP", {}, {}};
    for (const auto& [epoch, scores] : eval_history_) {
      bbox.x.push_back(double(epoch));
      bbox.y.push_back(scores.bbox_ap);
      segm.x.push_back(double(epoch));
      segm.y.push_back(scores.segm_ap);
    }
    panels.push_back({"AP by epoch", {bbox, segm}});
  }
  io::write_image_file(
      visualization::plot_panels(panels, 800, 360),
      (std::filesystem::path(options_.output_dir) / "training_curves.png").string());
}

std::vector<double> Trainer::train_step(const data::TrainBatch& batch, double lr,
                                        TrainSummary& summary) {
  modeling::ImageBatch images = batch.images;
  images.tensors = images.tensors.to(device_, /*non_blocking=*/true);
  std::vector<modeling::ImageTargets> targets;
  for (const auto& t : batch.targets) targets.push_back(t.to(device_, true));

  // One generator per image, seeded by its slot in the global batch.
  const int64_t iteration = position_.iteration;
  const int64_t per_rank = static_cast<int64_t>(targets.size());
  const int64_t first_slot = (options_.group == nullptr ? 0 : options_.group->rank()) * per_rank;
  std::vector<at::Generator> generators;
  for (int64_t i = 0; i < per_rank; ++i) {
    generators.push_back(at::make_generator<at::CPUGeneratorImpl>(data::mix_seed(
        {options_.seed, static_cast<uint64_t>(iteration), static_cast<uint64_t>(first_slot + i)})));
  }
  modeling::CountMean count_mean;
  if (world_size() > 1) {
    count_mean = [&](double count) {
      std::vector<at::Tensor> value = {
          at::full({1}, count, at::TensorOptions(at::kDouble).device(device_))};
      options_.group->all_reduce_mean(value);
      return value[0].item<double>();
    };
  }
  modeling::LossMap losses;
  {
    AutocastScope autocast(device_.type(), options_.amp_dtype, options_.amp);
    losses = model_->losses(images, targets, generators, count_mean);
  }
  const at::Tensor loss = modeling::total_loss(losses);
  if (loss_names_.empty()) {
    for (const auto& item : losses) loss_names_.push_back(item.first);
    loss_names_.push_back("loss");
  }

  // The logged values are the means over ranks; the last entry counts the ranks whose own
  // loss was not finite, so every rank takes the same decision.
  std::vector<at::Tensor> parts;
  for (const auto& [name, value] : losses) parts.push_back(value.detach().to(at::kFloat));
  parts.push_back(loss.detach().to(at::kFloat));
  const at::Tensor local = at::stack(parts);
  const at::Tensor local_bad = at::isfinite(local[-1]).logical_not().to(at::kFloat).view({1});
  at::Tensor reduced = at::cat({local, local_bad});
  if (world_size() > 1) {
    std::vector<at::Tensor> buffer = {reduced};
    options_.group->all_reduce_mean(buffer);
    reduced = buffer[0];
  }
  // The step's one wait for the device outside sampling and NMS: values, then both flags.
  const at::Tensor host = at::cat({reduced, local_bad}).to(at::kCPU, at::kDouble);
  std::vector<double> values(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
  const bool local_finite = values.back() == 0;
  values.pop_back();
  const bool finite = values.back() == 0;
  values.pop_back();
  if (!finite && !scaler_.enabled()) {
    if (local_finite) {
      throw Error(fmt::format(
          "stopping at iteration {}: another rank's batch gave a non-finite loss (that rank's "
          "message names the images). Checkpoints written so far are intact.",
          iteration));
    }
    std::string detail, ids;
    for (std::size_t k = 0; k < losses.size(); ++k)
      detail += fmt::format("{}{}={}", k ? ", " : "", losses[k].first, values[k]);
    for (std::size_t k = 0; k < batch.image_ids.size(); ++k)
      ids += fmt::format("{}{}", k ? ", " : "", batch.image_ids[k]);
    throw Error(fmt::format(
        "non-finite loss at iteration {} (epoch {}, batch {}): {}; image ids in the batch: "
        "{}. Checkpoints written so far are intact. A learning rate too high for the batch "
        "size, or a broken annotation in these images, are the usual causes.",
        iteration, batch.epoch, batch.index, detail, ids));
  }

  // Several ranks: gradients are averaged bucket by bucket while backward runs.
  if (reducer_) reducer_->begin();
  scaler_.scale(loss).backward();
  if (reducer_) reducer_->finish();
  if (!scaler_.unscale(optimizer_.parameters())) {
    if (options_.sgd.clip_grad_norm > 0) optimizer_.clip_gradients();
    optimizer_.step(lr);
    consecutive_skips_ = 0;
  } else {
    ++summary.skipped_steps;
    if (++consecutive_skips_ >= kMaxConsecutiveSkips) {
      throw Error(fmt::format(
          "{} mixed-precision steps in a row had inf/NaN gradients (last at iteration {}); the "
          "loss itself is broken",
          consecutive_skips_, iteration));
    }
  }
  scaler_.update();
  optimizer_.zero_grad();

  ++position_.iteration;
  position_.batch = batch.index + 1;
  if (options_.group != nullptr) options_.group->report_progress(position_.iteration);
  if (!finite) values.clear();  // a skipped mixed-precision step: nothing to average
  return values;
}

void Trainer::log_window(LogWindow& window, const data::TrainBatch& batch, double lr, int64_t total,
                         double seconds_per_step, TrainSummary& summary) {
  const double eta = seconds_per_step * double(total - position_.iteration);
  const int64_t logged = std::max<int64_t>(window.losses_counted, 1);
  const double steps = double(std::max<int64_t>(window.steps, 1));
  std::vector<double> means;
  std::string text, json;
  for (std::size_t k = 0; k < window.loss_sums.size(); ++k) {
    means.push_back(window.loss_sums[k] / double(logged));
    text += fmt::format(" {}: {:.6f}", loss_names_[k], means.back());
    json += fmt::format(", \"{}\": {}", loss_names_[k], means.back());
  }
  const double mean_batch = window.batch_seconds / steps;
  const double mean_data = window.data_seconds / steps;
  if (options_.log != nullptr) {
    *options_.log << fmt::format(
        "Epoch: [{}] [{:>{}}/{}] iter {}/{} lr: {:.6f}{} eta: {} batch_cost: {:.4f} s "
        "data_cost: {:.4f} s mem: {:.0f} MiB{}\n",
        batch.epoch, batch.index + 1, std::to_string(loader_.batches_per_epoch()).size(),
        loader_.batches_per_epoch(), position_.iteration, total, lr, text, format_duration(eta),
        mean_batch, mean_data, peak_memory_mib(),
        summary.skipped_steps ? fmt::format(" skipped_steps: {}", summary.skipped_steps)
                              : std::string());
    options_.log->flush();
  }
  write_metrics(fmt::format(
      "{{\"iteration\": {}, \"epoch\": {}, \"lr\": {}{}, \"batch_time\": {}, "
      "\"data_time\": {}, \"eta_seconds\": {}, \"memory_mib\": {}, \"skipped_steps\": {}, "
      "\"loss_scale\": {}{}}}",
      position_.iteration, batch.epoch, lr, json, mean_batch, mean_data, eta, peak_memory_mib(),
      summary.skipped_steps, scaler_.current_scale(),
      count_host_syncs_
          ? fmt::format(", \"host_syncs_per_step\": {}", double(window.host_syncs) / steps)
          : std::string()));
  loss_history_.emplace_back(position_.iteration, means);
  window = LogWindow{};
}

void Trainer::finish_epoch(int64_t epoch, bool final) {
  const std::string name = final ? "model_final" : std::to_string(epoch);
  save(name);
  if (!options_.evaluate) return;
  const EvalScores scores = options_.evaluate(model_);
  model_->train();
  eval_history_.emplace_back(epoch, scores);
  write_metrics(
      fmt::format("{{\"epoch\": {}, \"iteration\": {}, \"bbox_ap\": {}, \"segm_ap\": {}}}", epoch,
                  position_.iteration, scores.bbox_ap, scores.segm_ap));
  if (options_.log != nullptr) {
    *options_.log << fmt::format("epoch {}: bbox AP {:.4f}, segm AP {:.4f}\n", epoch,
                                 scores.bbox_ap, scores.segm_ap);
  }
  if (scores.bbox_ap > position_.best_ap) {
    position_.best_ap = scores.bbox_ap;
    position_.best_epoch = epoch;
    // The snapshot is written again so that a resume from it knows the best score.
    save(name);
    save("best_model");
    if (options_.log != nullptr) {
      *options_.log << fmt::format("best_model: bbox AP {:.4f} at epoch {}\n", position_.best_ap,
                                   epoch);
    }
  }
}

TrainSummary Trainer::run() {
  const auto run_start = Clock::now();
  model_->train();
  TrainSummary summary;
  const int64_t total = total_iterations();
  const int64_t first_iteration = position_.iteration;
  double seconds_in_steps = 0;
  LogWindow window;
  bool stop = position_.iteration >= total;

  for (int64_t epoch = position_.epoch; epoch < options_.epochs && !stop; ++epoch) {
    loader_.start_epoch(epoch, position_.epoch == epoch ? position_.batch : 0);
    position_.epoch = epoch;
    while (true) {
      const auto step_start = Clock::now();
      std::optional<data::TrainBatch> batch = loader_.next();
      if (!batch) break;
      std::optional<HostSyncCounter> syncs;
      if (count_host_syncs_) syncs.emplace();
      loader_.finish(*batch, device_);  // a batch left to the training device
      const double data_time = seconds_since(step_start);
      const double lr = options_.schedule.at(position_.iteration);
      const std::vector<double> values = train_step(*batch, lr, summary);
      const double step_time = seconds_since(step_start);
      seconds_in_steps += step_time;
      window.add(values, step_time, data_time, syncs ? syncs->count() : 0);
      syncs.reset();

      const bool last_step = position_.iteration >= total;
      if (position_.iteration % std::max<int64_t>(options_.log_iter, 1) == 0 || last_step) {
        log_window(window, *batch, lr, total,
                   seconds_in_steps / double(position_.iteration - first_iteration), summary);
      }
      if (options_.snapshot_iterations > 0 &&
          position_.iteration % options_.snapshot_iterations == 0 && !last_step) {
        save("last");
      }
      if (last_step) {
        stop = true;
        break;
      }
    }

    const bool epoch_done = position_.batch >= loader_.batches_per_epoch();
    if (epoch_done) {
      position_.epoch = epoch + 1;
      position_.batch = 0;
    }
    const bool final = stop || epoch == options_.epochs - 1;
    const bool snapshot =
        epoch_done && (epoch + 1) % std::max<int64_t>(options_.snapshot_epoch, 1) == 0;
    if (final || snapshot) finish_epoch(epoch, final);
  }
  write_curves();
  summary.iterations = position_.iteration;
  summary.seconds = seconds_since(run_start);
  return summary;
}

}  // namespace mrcnn::engine
