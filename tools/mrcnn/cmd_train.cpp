// `mrcnn train -c CONFIG [-o k=v ...] [--eval] [-r CKPT] [--amp] [--iters N] [--print-config]`
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "common_options.h"
#include "distributed_setup.h"
#include "mrcnn/common/error.h"
#include "mrcnn/config/loader.h"
#include "mrcnn/engine/amp.h"
#include "mrcnn/engine/build_training.h"
#include "mrcnn/engine/trainer.h"
#include "mrcnn/evaluation/evaluator.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/build.h"
#include "mrcnn/modeling/weights.h"
#include "progress.h"

namespace mrcnn::cli {
namespace {

struct TrainOptions {
  ConfigOptions config;
  bool print_config = false;
  bool eval = false;
  std::string resume;
  bool amp = false;
  int64_t iterations = 0;
};

// Every label the data can produce must have an output slot in the model.
void check_classes(const config::Config& cfg, const data::CocoDataset& dataset) {
  const int64_t slots = modeling::num_model_classes(cfg) - 1;
  if (cfg.label_map == "category_id") {
    for (const auto& category : dataset.categories) {
      if (category.id < 1 || category.id > slots) {
        throw Error(ErrorLocation{.file = dataset.path,
                                  .record = "category id " + std::to_string(category.id)},
                    "label_map is category_id but the id is outside 1.." + std::to_string(slots) +
                        " (num_classes)");
      }
    }
  } else if (static_cast<int64_t>(dataset.categories.size()) > slots) {
    throw Error(ErrorLocation{.file = dataset.path}, std::to_string(dataset.categories.size()) +
                                                         " categories but num_classes is " +
                                                         std::to_string(slots));
  }
}

int run_train(const TrainOptions& options) {
  const config::Config cfg = load_config(options.config);
  if (options.print_config) {
    std::cout << config::to_yaml(cfg);
    return 0;
  }
  const DistributedRun dist = setup_distributed(cfg, select_device(options.config, cfg));
  const c10::Device device = dist.device;
  const bool is_root = dist.is_root();
  namespace fs = std::filesystem;
  const std::string output_dir = (fs::path(cfg.save_dir) / cfg.config_name).string();

  const fs::path root = cfg.train_dataset.dataset_dir;
  const data::CocoDataset dataset = data::load_coco((root / cfg.train_dataset.anno_path).string());
  check_classes(cfg, dataset);
  data::TrainingViewReport report;
  auto records =
      data::training_view(dataset, /*require_masks=*/true, cfg.train_dataset.allow_empty, &report);
  if (is_root) {
    std::cerr << fmt::format("train data: {}: {} images used of {}; {}\n", dataset.path,
                             records.size(), dataset.images.size(), report.summary());
  }

  // The seed fixes the initial weights as well as sampling and augmentation.
  at::manual_seed(static_cast<uint64_t>(cfg.seed));
  modeling::MaskRCNN model(modeling::options_from_config(cfg));
  if (!cfg.pretrain_weights.empty() && options.resume.empty()) {
    const auto loaded = modeling::load_pretrain_weights(
        *model, io::load_weights_file(cfg.pretrain_weights), cfg.pretrain_weights);
    if (is_root) {
      std::cerr << "pretrain_weights: " << cfg.pretrain_weights << ": " << loaded.summary() << "\n";
    }
  }
  model->to(device);

  data::TrainLoaderOptions loader_options =
      engine::train_loader_options(cfg, dist.launch.rank, dist.launch.world_size);
  loader_options.pin_memory = device.is_cuda();
  loader_options.finish_on_device =
      cfg.train_preprocess == "device" || (cfg.train_preprocess == "auto" && device.is_cuda());
  data::TrainLoader loader(dataset, std::move(records),
                           (root / cfg.train_dataset.image_dir).string(),
                           engine::train_transform_options(cfg), loader_options);

  engine::TrainerOptions trainer_options;
  trainer_options.output_dir = output_dir;
  trainer_options.epochs = cfg.epoch;
  trainer_options.snapshot_epoch = cfg.snapshot_epoch;
  trainer_options.snapshot_iterations = cfg.snapshot_iter;
  trainer_options.log_iter = cfg.log_iter;
  trainer_options.max_iterations = options.iterations;
  trainer_options.amp = options.amp;
  trainer_options.amp_dtype = engine::amp_dtype(cfg.amp_dtype, device);
  trainer_options.seed = static_cast<uint64_t>(cfg.seed);
  trainer_options.schedule = engine::lr_schedule(cfg, loader.batches_per_epoch());
  trainer_options.sgd = engine::sgd_options(cfg);
  trainer_options.group = dist.group.get();
  trainer_options.log = is_root ? &std::cout : nullptr;

  std::unique_ptr<data::CocoDataset> eval_gt;
  if (options.eval) {
    const fs::path eval_root = cfg.eval_dataset.dataset_dir;
    eval_gt = std::make_unique<data::CocoDataset>(
        data::load_coco((eval_root / cfg.eval_dataset.anno_path).string()));
    const std::string image_dir = (eval_root / cfg.eval_dataset.image_dir).string();
    const evaluation::LabelMapping labels = evaluation::label_mapping(cfg, *eval_gt);
    const evaluation::EvalSharding sharding = dist.sharding("train-eval");
    trainer_options.evaluate = [&, image_dir, labels, sharding](modeling::MaskRCNN& m) {
      std::optional<Progress> progress;
      if (is_root) progress.emplace("eval", eval_gt->images.size());
      const auto result = evaluation::evaluate_model(
          m, *eval_gt, image_dir, device, labels, cfg.mask_post_process.binary_thresh, output_dir,
          [&](int64_t done, int64_t, double) {
            if (progress) progress->update(done);
          },
          sharding);
      if (!result.scored) return engine::EvalScores{};
      progress->finish();
      std::cout << "Evaluate annotation type *bbox*\n"
                << result.bbox.summary() << "Evaluate annotation type *segm*\n"
                << result.segm.summary();
      return engine::EvalScores{result.bbox.stats[0], result.segm.stats[0]};
    };
  }

  if (is_root) {
    std::cout << fmt::format(
        "training {} on {}{}: {} images, {} per batch, {} batches per epoch, {} epochs, {}{}\n",
        cfg.config_name, device.str(),
        dist.launch.world_size > 1 ? fmt::format(" x {} ranks", dist.launch.world_size) : "",
        loader.num_images(), loader_options.batch_size, loader.batches_per_epoch(), cfg.epoch,
        options.amp ? fmt::format("mixed precision ({})", c10::toString(trainer_options.amp_dtype))
                    : std::string("fp32"),
        options.iterations > 0 ? fmt::format(", stopping after {} iterations", options.iterations)
                               : std::string());
  }
  engine::Trainer trainer(model, loader, device, trainer_options);
  if (!options.resume.empty()) trainer.resume(options.resume);
  const engine::TrainSummary summary = trainer.run();
  if (is_root) {
    std::cout << fmt::format(
        "done: {} iterations in {:.1f} s; checkpoints, metrics.jsonl and "
        "training_curves.png in {}\n",
        summary.iterations, summary.seconds, output_dir);
  }
  return 0;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("train", "Train a model from a YAML config");
  auto options = std::make_shared<TrainOptions>();
  add_config_options(*command, options->config);
  command->add_flag("--print-config", options->print_config,
                    "print the merged config (bases, overrides and defaults) and exit");
  command->add_flag("--eval", options->eval, "evaluate at every snapshot and keep best_model");
  command->add_option("-r,--resume", options->resume,
                      "checkpoint to resume from (output/<config>/N or .../last)");
  command->add_flag("--amp", options->amp,
                    "mixed precision (amp_dtype: float16 with loss scaling on CUDA, bfloat16 "
                    "elsewhere)");
  command
      ->add_option("--iters", options->iterations,
                   "stop after this many iterations in all (smoke tests, benchmarks)")
      ->check(CLI::NonNegativeNumber);
  command->callback([&exit_code, options] { exit_code = run_train(*options); });
}

}  // namespace mrcnn::cli
