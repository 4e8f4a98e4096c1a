// `mrcnn eval -c CFG [--weights W] [--output_eval DIR] [--classwise] [--json_eval]`
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "common_options.h"
#include "distributed_setup.h"
#include "model_setup.h"
#include "mrcnn/evaluation/coco_eval.h"
#include "progress.h"

namespace mrcnn::cli {
namespace {

struct EvalOptions {
  ConfigOptions config;
  std::string weights;
  std::string output_eval;
  bool classwise = false;
  bool json_eval = false;
};

void print_result(const evaluation::EvalResult& result, const data::CocoDataset& gt,
                  bool classwise) {
  std::cout << "Evaluate annotation type *" << evaluation::iou_type_name(result.type) << "*\n"
            << result.summary();
  if (classwise) std::cout << result.per_category_table(gt);
}

int run_eval(const EvalOptions& options) {
  const config::Config cfg = load_config(options.config);
  const DistributedRun dist = setup_distributed(cfg, select_device(options.config, cfg));
  const c10::Device device = dist.device;
  namespace fs = std::filesystem;
  const fs::path root = cfg.eval_dataset.dataset_dir;
  const data::CocoDataset gt = data::load_coco((root / cfg.eval_dataset.anno_path).string());
  const std::string output = options.output_eval.empty()
                                 ? (fs::path(cfg.save_dir) / cfg.config_name).string()
                                 : options.output_eval;
  if (options.json_eval) {
    // Score results written earlier.
    for (const auto& [file, type] : {std::pair{"bbox.json", evaluation::IouType::kBbox},
                                     std::pair{"mask.json", evaluation::IouType::kSegm}}) {
      const std::string path = (fs::path(output) / file).string();
      print_result(evaluation::evaluate(gt, evaluation::load_results(path, gt, type), type), gt,
                   options.classwise);
    }
    return 0;
  }
  auto model = load_model(cfg, resolve_weights_path(options.weights, cfg), device,
                          /*quiet=*/!dist.is_root());
  std::optional<Progress> progress;
  if (dist.is_root()) progress.emplace("eval", gt.images.size());
  // With several ranks each predicts its share of the images; rank 0 writes and scores.
  const auto result = evaluation::evaluate_model(
      model, gt, (root / cfg.eval_dataset.image_dir).string(), device,
      evaluation::label_mapping(cfg, gt), cfg.mask_post_process.binary_thresh, output,
      [&](int64_t done, int64_t, double) {
        if (progress) progress->update(done);
      },
      dist.sharding("eval"));
  if (!result.scored) return 0;
  progress->finish();
  std::cerr << "wrote " << result.bbox_json_path << " and " << result.mask_json_path << " ("
            << result.images_per_second << " images/s)\n";
  print_result(result.bbox, gt, options.classwise);
  print_result(result.segm, gt, options.classwise);
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "eval", "Evaluate a model on the config's EvalDataset (COCO bbox and segm)");
  auto options = std::make_shared<EvalOptions>();
  add_config_options(*command, options->config);
  command->add_option("--weights", options->weights,
                      "weights file (default: the config's `weights`)");
  command->add_option("--output_eval", options->output_eval,
                      "folder for bbox.json and mask.json (default: <save_dir>/<config name>)");
  command->add_flag("--classwise", options->classwise, "also per-category AP");
  command->add_flag("--json_eval", options->json_eval,
                    "score existing bbox.json / mask.json in --output_eval");
  command->callback([&exit_code, options] { exit_code = run_eval(*options); });
}

}  // namespace mrcnn::cli
