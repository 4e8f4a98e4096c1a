#include "mrcnn/build/train_job.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include "mrcnn/build/device.h"
#include "mrcnn/build/distributed_setup.h"
#include "mrcnn/build/eval_pictures.h"
#include "mrcnn/build/labels.h"
#include "mrcnn/build/model.h"
#include "mrcnn/build/paths.h"
#include "mrcnn/build/readers.h"
#include "mrcnn/build/training.h"
#include "mrcnn/coco/report.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/engine/checkpoint.h"
#include "mrcnn/engine/hooks.h"
#include "mrcnn/evaluation/dataset_eval.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/weights.h"

namespace mrcnn::build {
namespace {

// PaddleDetection's print_params: every parameter with its shape, then the totals.
void print_parameters(modeling::MaskRCNN& model, std::ostream& out) {
  int64_t total = 0, trainable = 0;
  for (const auto& item : model->named_parameters()) {
    std::ostringstream shape;
    shape << item.value().sizes();
    out << fmt::format("{} {} {}\n", item.key(), shape.str(),
                       item.value().requires_grad() ? "trainable" : "frozen");
    total += item.value().numel();
    if (item.value().requires_grad()) trainable += item.value().numel();
  }
  out << fmt::format("parameters: {} in all, {} trainable\n", total, trainable);
}

// Trainable BatchNorm statistics would have to be shared over the processes: not offered.
void check_sync_bn(const config::Config& config, int64_t world_size) {
  if (config.resnet.norm_type == "sync_bn" && !config.resnet.freeze_norm && world_size > 1) {
    throw Error(
        "'ResNet.norm_type': sync_bn with freeze_norm: false shares batch statistics over the "
        "processes, which this version does not do; use bn (each process its own statistics), "
        "gn, or freeze_norm: true");
  }
}

// Missing, unreadable, oversized and mis-sized images are found from their headers now, not
// when their batch comes up hours into the run, and left out with a report (PaddleDetection
// also skips missing files). Every rank checks the same files and drops the same records.
void skip_unusable_images(const coco::Dataset& dataset, const data::ImageFolder& images,
                          std::vector<coco::TrainingRecord>& records, std::ostream* notes) {
  std::vector<int64_t> indices;
  for (const auto& r : records) indices.push_back(r.image_index);
  const auto problems = data::check_dataset_images(dataset, images, indices);
  if (problems.empty()) return;
  if (problems.size() == records.size()) {
    throw Error(ErrorLocation{.file = dataset.path},
                "no training image can be used: " +
                    data::describe_image_problems(problems, static_cast<int64_t>(indices.size())));
  }
  std::vector<bool> bad(dataset.images.size(), false);
  for (const auto& p : problems) bad[static_cast<std::size_t>(p.image_index)] = true;
  std::erase_if(records, [&](const coco::TrainingRecord& r) {
    return bad[static_cast<std::size_t>(r.image_index)];
  });
  if (notes != nullptr) {
    *notes << "train data: skipped: "
           << data::describe_image_problems(problems, static_cast<int64_t>(indices.size())) << "\n";
  }
}

// --eval: the model scored on EvalDataset at every snapshot (every rank predicts its share).
// Pictures of predictions beside the ground truth, for the event file at each evaluation: the
// first few val images, always the same ones, so that a run's progress shows on them.
constexpr int64_t kEventPictures = 3;
constexpr double kPictureScoreThreshold = 0.5;

engine::EvaluationHook::Evaluate make_evaluation(const config::Config& config,
                                                 const DistributedRun& run, const JobOutput& output,
                                                 bool pictures) {
  auto ground_truth = std::make_shared<coco::Dataset>(
      coco::load_dataset(dataset_path(config.eval_dataset, config.eval_dataset.anno_path)));
  auto labels = std::make_shared<structures::LabelMap>(label_map(config, *ground_truth));
  evaluation::DatasetEvalOptions options;
  options.images = image_folder(config, config.eval_dataset);
  data::require_dataset_images(*ground_truth, options.images);  // before, not after, training
  options.output_dir = output_dir(config);
  options.transform = transform_options(config.eval_reader);
  options.batch_size = config.eval_reader.batch_size;
  options.device = run.device;
  const evaluation::EvalSharding sharding = run.sharding("train-eval");
  const bool root = run.is_root();
  return [ground_truth, labels, options, sharding, root, output,
          pictures](modeling::MaskRCNN& model) -> std::optional<engine::EvalScores> {
    evaluation::EvalProgress progress;
    if (root && output.progress) {
      progress = [&](int64_t done, int64_t total, double) { output.progress(done, total); };
    }
    const evaluation::DatasetEvaluation result =
        evaluation::evaluate_model(model, *ground_truth, *labels, options, progress, sharding);
    if (!result.scored) return std::nullopt;
    if (output.out != nullptr) {
      *output.out << "Evaluate annotation type *bbox*\n"
                  << result.bbox.summary() << "Evaluate annotation type *segm*\n"
                  << result.segm.summary();
    }
    engine::EvalScores scores{.bbox_ap = result.bbox.stats[0],
                              .segm_ap = result.segm.stats[0],
                              .bbox_stats = {result.bbox.stats.begin(), result.bbox.stats.end()},
                              .segm_stats = {result.segm.stats.begin(), result.segm.stats.end()}};
    if (pictures) {
      scores.pictures = truth_beside_predictions(
          *ground_truth, *labels, options.images,
          model_predictions(model, options.transform, options.device, kPictureScoreThreshold),
          kEventPictures, kPictureScoreThreshold);
    }
    return scores;
  };
}

// Where to continue from: -r, or, with --auto_resume or after a torchrun restart, the newest
// checkpoint rank 0 finds in the output folder (every rank loads the one it names). Empty:
// from the start.
struct ResumePoint {
  std::string checkpoint;
  std::string reason;
};

ResumePoint resume_point(const config::Config& cfg, const TrainJobOptions& options,
                         const DistributedRun& run, std::ostream* notes) {
  const int64_t restart = run.launch.restart_count;
  if (!options.auto_resume && restart == 0) return {options.resume, "-r"};
  const std::string folder = output_dir(cfg);
  std::string name;
  if (run.is_root()) {
    if (const auto found = engine::newest_checkpoint(folder)) {
      name = std::filesystem::path(found->stem).filename().string();
    }
  }
  // A name, not a path: each node finds it in its own (shared) output folder.
  name = run.group->share_from_root("resume-from-" + std::to_string(restart), name);
  const std::string reason =
      restart > 0 ? fmt::format("torchrun restart {}", restart) : std::string("--auto_resume");
  if (!name.empty()) return {join_path(folder, name), reason};
  if (notes != nullptr) {
    *notes << fmt::format(
        "{}: no checkpoint in {} yet: {}\n", reason, folder,
        options.resume.empty() ? "starting from the beginning" : "resuming from " + options.resume);
  }
  return {options.resume, "-r"};
}

engine::TrainSummary train(const config::Config& cfg, const TrainJobOptions& options,
                           const JobOutput& output, const DistributedRun& run) {
  const bool root = run.is_root();
  std::ostream* out = root ? output.out : nullptr;
  std::ostream* notes = root ? output.notes : nullptr;

  const coco::Dataset dataset =
      coco::load_dataset(dataset_path(cfg.train_dataset, cfg.train_dataset.anno_path));
  structures::LabelMap labels = label_map(cfg, dataset);
  coco::TrainingViewReport report;
  std::vector<coco::TrainingRecord> records =
      coco::training_view(dataset, training_view_options(cfg), &report);
  const data::ImageFolder images = image_folder(cfg, cfg.train_dataset);
  skip_unusable_images(dataset, images, records, notes);
  if (notes != nullptr) {
    *notes << fmt::format("train data: {}: {} images used of {}; {}\n", dataset.path,
                          records.size(), dataset.images.size(), report.summary());
    if (labels.unused_labels() > 0) {
      *notes << fmt::format("train data: {} categories for num_classes {}: {} labels unused\n",
                            labels.categories().size(), cfg.num_classes, labels.unused_labels());
    }
  }

  const ResumePoint resume = resume_point(cfg, options, run, notes);

  // The seed fixes the initial weights as well as sampling and augmentation.
  at::manual_seed(static_cast<uint64_t>(cfg.seed));
  modeling::MaskRCNN model(model_options(cfg));
  if (!cfg.pretrain_weights.empty() && resume.checkpoint.empty()) {
    const auto loaded = modeling::load_pretrain_weights(
        *model, io::load_weights_file(cfg.pretrain_weights), cfg.pretrain_weights);
    if (notes != nullptr) {
      *notes << "pretrain_weights: " << cfg.pretrain_weights << ": " << loaded.summary() << "\n";
    }
  }
  if (cfg.print_params && out != nullptr) print_parameters(model, *out);
  model->to(run.device);

  const data::TrainLoaderOptions loader_options =
      train_loader_options(cfg, run.device, run.launch.rank, run.launch.world_size);
  data::TrainLoader loader(dataset, std::move(records), images, std::move(labels),
                           transform_options(cfg.train_reader), loader_options);

  engine::TrainerOptions trainer_options;
  trainer_options.output_dir = output_dir(cfg);
  trainer_options.epochs = cfg.epoch;
  trainer_options.snapshot_epoch = cfg.snapshot_epoch;
  trainer_options.max_iterations = options.max_iterations;
  trainer_options.amp = options.amp;
  trainer_options.amp_dtype = select_amp_dtype(cfg, run.device);
  trainer_options.seed = static_cast<uint64_t>(cfg.seed);
  trainer_options.schedule = lr_schedule(cfg, loader.batches_per_epoch());
  trainer_options.sgd = sgd_options(cfg);
  trainer_options.group = run.group.get();
  trainer_options.log = out;
  if (options.tensorboard) {
    trainer_options.tensorboard_dir = options.tensorboard_dir.empty()
                                          ? join_path(trainer_options.output_dir, "tensorboard")
                                          : options.tensorboard_dir;
  }

  engine::Trainer trainer(model, loader, trainer_options);
  trainer.add_hook(std::make_unique<engine::MetricsHook>(cfg.log_iter));
  trainer.add_hook(std::make_unique<engine::CheckpointHook>(cfg.snapshot_iter));
  if (options.evaluate) {
    trainer.add_hook(std::make_unique<engine::EvaluationHook>(
        make_evaluation(cfg, run, output, options.tensorboard)));
  }
  trainer.add_hook(std::make_unique<engine::CurvesHook>());

  if (out != nullptr) {
    *out << fmt::format(
        "training {} on {}{}: {} images, {} per batch, {} batches per epoch, {} epochs, {}{}\n",
        cfg.config_name, run.device.str(),
        run.launch.world_size > 1 ? fmt::format(" x {} ranks", run.launch.world_size) : "",
        loader.num_images(), loader_options.batch_size, loader.batches_per_epoch(), cfg.epoch,
        options.amp ? fmt::format("mixed precision ({})", c10::toString(trainer_options.amp_dtype))
                    : std::string("fp32"),
        options.max_iterations > 0
            ? fmt::format(", stopping after {} iterations", options.max_iterations)
            : std::string());
  }
  if (!resume.checkpoint.empty()) {
    try {
      trainer.resume(resume.checkpoint, resume.reason);
    } catch (const Error& e) {
      if (root) throw;
      throw Error(std::string(e.what()) +
                  " (every rank reads the checkpoint rank 0 names: with several machines, the "
                  "output folder must be one they share)");
    }
  }
  const engine::TrainSummary summary = trainer.run();
  if (out != nullptr) {
    *out << fmt::format(
        "done: {} iterations in {:.1f} s; checkpoints, metrics.jsonl and "
        "training_curves.png in {}\n",
        summary.iterations, summary.seconds, trainer_options.output_dir);
  }
  return summary;
}

}  // namespace

engine::TrainSummary run_train_job(const config::Config& cfg, const TrainJobOptions& options,
                                   const JobOutput& output) {
  if (options.auto_resume && !options.resume.empty()) {
    throw Error("use either -r CHECKPOINT or --auto_resume, not both");
  }
  check_sync_bn(cfg, distributed::read_launch_environment().world_size);  // before any rendezvous
  const DistributedRun run =
      setup_distributed(cfg, select_device(cfg, options.device), output.notes);
  if (run.launch.restart_count > 0) {
    if (const std::optional<std::string> failure = run.group->earlier_failure()) {
      throw Error(*failure + " [the attempt before this restart stopped on it: stopping at once]");
    }
  }
  if (run.launch.world_size == 1) return train(cfg, options, output, run);
  try {
    return train(cfg, options, output, run);
  } catch (const distributed::CollectiveError&) {
    throw;  // a lost peer, or another rank's failure already posted
  } catch (const Error& e) {
    // An error of this rank's data, config or files: a restart would only meet it again.
    throw Error(run.group->fail_everywhere(
        fmt::format("rank {} stopped the run: {} -- this comes from the data, config or files, not "
                    "from a crash: a restart will not help",
                    run.launch.rank, e.what())));
  }
}

}  // namespace mrcnn::build
