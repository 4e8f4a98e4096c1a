#include "mrcnn/engine/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/modeling/weights.h"
#include "mrcnn/runtime/host_syncs.h"

namespace mrcnn::engine {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Consecutive skipped fp16 steps after which the loss is taken to be broken, not overflowing.
constexpr int64_t kMaxConsecutiveSkips = 50;

}  // namespace

Trainer::Trainer(modeling::MaskRCNN model, data::TrainLoader& loader, TrainerOptions options)
    : model_(std::move(model)),
      loader_(loader),
      options_(std::move(options)),
      device_(loader.device()),
      count_host_syncs_(device_.is_cuda() && runtime::HostSyncCounter::available()),
      optimizer_(*model_, options_.sgd),
      scaler_(device_, options_.amp && options_.amp_dtype == at::kHalf) {
  if (is_root()) {
    create_directories(options_.output_dir);
    // Checkpoints are made by creating files there: find out now, not after an epoch.
    AtomicFileWriter probe(join_path(options_.output_dir, ".write_test"));
  }
  if (world_size() > 1) {
    // Every rank starts from rank 0's weights (a resume then loads the same file everywhere).
    std::vector<at::Tensor> state;
    for (const auto& p : model_->parameters()) state.push_back(p);
    for (const auto& b : model_->buffers()) state.push_back(b);
    options_.group->broadcast(state, 0);
    reducer_ =
        std::make_unique<distributed::GradientReducer>(*options_.group, optimizer_.parameters());
  }
}

void Trainer::add_hook(std::unique_ptr<TrainerHook> hook) { hooks_.push_back(std::move(hook)); }

int64_t Trainer::total_iterations() const {
  const int64_t scheduled = options_.epochs * loader_.batches_per_epoch();
  return options_.max_iterations > 0 ? std::min(scheduled, options_.max_iterations) : scheduled;
}

void Trainer::resume(const std::string& path, const std::string& reason) {
  const Checkpoint checkpoint = load_checkpoint(path);
  modeling::load_weights(*model_, checkpoint.weights, {}, checkpoint_stem(path));
  optimizer_.load_state(checkpoint.state);
  scaler_.load_state(checkpoint.state);
  position_ = checkpoint.position;
  forget_metrics_after(position_.iteration);
  resumed_ = true;
  JsonObject line;
  line.add("event", "resumed")
      .add("iteration", position_.iteration)
      .add("epoch", position_.epoch)
      .add("batch", position_.batch)
      .add("from", checkpoint_stem(path))
      .add("reason", reason);
  write_metrics(line);
  if (log() != nullptr) {
    *log() << fmt::format(
        "resumed from {} ({}): epoch {}, batch {}, iteration {}{}\n", checkpoint_stem(path), reason,
        position_.epoch, position_.batch, position_.iteration,
        position_.iteration >= total_iterations() ? "; nothing left to train" : "");
  }
}

void Trainer::forget_metrics_after(int64_t iteration) {
  if (!is_root()) return;
  const std::string path = join_path(options_.output_dir, "metrics.jsonl");
  std::ifstream in(path);
  if (!in) return;
  // The resumed steps are logged again: the lines of the first run's later steps would repeat
  // them.
  static const std::regex kIteration(R"("iteration": (-?\d+))");
  std::string kept, line;
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_search(line, match, kIteration) && std::stoll(match[1]) > iteration) continue;
    kept += line + "\n";
  }
  write_file_atomically(path, kept);
}

void Trainer::save_checkpoint(const std::string& name) {
  if (!is_root()) return;
  io::NamedTensors state = optimizer_.state();
  for (auto& item : scaler_.state()) state.push_back(std::move(item));
  const std::string stem = join_path(options_.output_dir, name);
  engine::save_checkpoint(stem, *model_, state, position_);
  if (log() != nullptr) *log() << "saved checkpoint " << stem << "\n";
}

void Trainer::write_metrics(const JsonObject& line) {
  if (!is_root()) return;
  const std::string path = join_path(options_.output_dir, "metrics.jsonl");
  const std::string text = line.str() + "\n";
  std::FILE* file = std::fopen(path.c_str(), "ab");
  const bool written =
      file != nullptr && std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const bool closed = file != nullptr && std::fclose(file) == 0;
  if (!written || !closed) {
    throw Error(ErrorLocation{.file = path}, "cannot append to the metrics file");
  }
}

void Trainer::write_scalars(int64_t step,
                            const std::vector<std::pair<std::string, double>>& scalars) {
  if (events_ == nullptr) return;
  for (const auto& [tag, value] : scalars) events_->add_scalar(tag, value, step);
  events_->flush();
}

std::vector<double> Trainer::train_step(const data::TrainBatch& batch, double lr) {
  const std::vector<structures::Instances>& targets = batch.targets;

  // One generator per image, seeded by its slot in the global batch.
  const int64_t iteration = position_.iteration;
  const int64_t per_rank = static_cast<int64_t>(targets.size());
  const int64_t first_slot = (options_.group == nullptr ? 0 : options_.group->rank()) * per_rank;
  modeling::TrainingContext context;
  for (int64_t i = 0; i < per_rank; ++i) {
    context.generators.push_back(at::make_generator<at::CPUGeneratorImpl>(data::mix_seed(
        {options_.seed, static_cast<uint64_t>(iteration), static_cast<uint64_t>(first_slot + i)})));
  }
  if (world_size() > 1) {
    context.count_mean = [&](double count) {
      std::vector<at::Tensor> value = {
          at::full({1}, count, at::TensorOptions(at::kDouble).device(device_))};
      options_.group->all_reduce_mean(value);
      return value[0].item<double>();
    };
  }
  modeling::LossMap losses;
  {
    solver::AutocastScope autocast(device_.type(), options_.amp_dtype, options_.amp);
    losses = model_->losses(batch.images, targets, context);
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
    ++skipped_steps_;
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

TrainSummary Trainer::run() {
  const auto run_start = Clock::now();
  if (is_root() && !options_.tensorboard_dir.empty()) {
    // After a resume the file keeps the steps up to the checkpoint's and continues from there.
    events_ = std::make_unique<io::EventFileWriter>(options_.tensorboard_dir,
                                                    resumed_ ? position_.iteration : -1);
  }
  model_->train();
  const int64_t total = total_iterations();
  bool stop = position_.iteration >= total;

  for (int64_t epoch = position_.epoch; epoch < options_.epochs && !stop; ++epoch) {
    loader_.start_epoch(epoch, position_.epoch == epoch ? position_.batch : 0);
    position_.epoch = epoch;
    while (true) {
      const auto step_start = Clock::now();
      std::optional<runtime::HostSyncCounter> syncs;
      if (count_host_syncs_) syncs.emplace();
      std::optional<data::TrainBatch> batch = loader_.next();  // on the device, finished
      if (!batch) break;
      StepRecord step{.epoch = batch->epoch, .batch = batch->index};
      step.data_seconds = seconds_since(step_start);
      step.lr = options_.schedule.at(position_.iteration);
      step.losses = train_step(*batch, step.lr);
      step.step_seconds = seconds_since(step_start);
      if (syncs) step.host_syncs = syncs->count();
      syncs.reset();
      step.iteration = position_.iteration;
      step.last = position_.iteration >= total;
      for (auto& hook : hooks_) hook->after_step(*this, step);
      if (step.last) {
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
    if (final || snapshot) {
      const Snapshot point{final ? "model_final" : std::to_string(epoch), epoch, final};
      for (auto& hook : hooks_) hook->at_snapshot(*this, point);
    }
  }
  for (auto& hook : hooks_) hook->after_train(*this);
  events_.reset();
  return {.iterations = position_.iteration,
          .skipped_steps = skipped_steps_,
          .seconds = seconds_since(run_start)};
}

}  // namespace mrcnn::engine
