// `mrcnn coco-eval --ann GT.json --res RES.json --type bbox|segm [--classwise] [--stats-json F]`
// Needs no tensors: the front end runs it without loading LibTorch.
#include <chrono>
#include <iostream>
#include <memory>

#include "commands.h"
#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/eval.h"
#include "mrcnn/coco/report.h"
#include "mrcnn/coco/training_view.h"
#include "mrcnn/common/error.h"

namespace mrcnn::cli {
namespace {

struct CocoEvalOptions {
  std::string annotations;
  std::string results;
  std::string type;
  bool classwise = false;
  std::string stats_json;
  int threads = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run_coco_eval(const CocoEvalOptions& options) {
  if (!options.results.empty() && options.type.empty())
    throw Error("--type bbox|segm is needed with --res");
  const auto type = coco::parse_iou_type(options.type.empty() ? "bbox" : options.type);
  auto start = std::chrono::steady_clock::now();
  const coco::Dataset gt = coco::load_dataset(options.annotations);
  std::cerr << "loaded " << gt.images.size() << " images, " << gt.annotations.size()
            << " annotations in " << seconds_since(start) << " s\n";
  if (options.results.empty()) {
    // Only check the annotation file, and say what training would make of it.
    coco::TrainingViewReport report;
    coco::training_view(gt, coco::TrainingViewOptions{}, &report);
    std::cout << gt.path << ": valid; " << gt.images.size() << " images, " << gt.annotations.size()
              << " annotations, " << gt.categories.size() << " categories\n"
              << "for training: " << report.summary() << "\n";
    return 0;
  }
  start = std::chrono::steady_clock::now();
  const auto detections = coco::load_results(options.results, gt, type);
  std::cerr << "loaded " << detections.size() << " results in " << seconds_since(start) << " s\n";
  start = std::chrono::steady_clock::now();
  const coco::EvalResult result = coco::evaluate(gt, detections, type, options.threads);
  std::cerr << "evaluated (" << coco::iou_type_name(type) << ") in " << seconds_since(start)
            << " s\n";
  std::cout << result.summary();
  if (options.classwise) std::cout << result.per_category_table(gt);
  if (!options.stats_json.empty()) {
    coco::write_stats_json(options.stats_json, result, gt, options.classwise);
  }
  return 0;
}

}  // namespace

void add_coco_eval_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("coco-eval", "Score a COCO results file against ground truth");
  auto options = std::make_shared<CocoEvalOptions>();
  command->add_option("--ann", options->annotations, "ground-truth instances json")->required();
  command->add_option("--res", options->results,
                      "results json (bbox.json, mask.json); without it, only check --ann");
  command->add_option("--type", options->type, "bbox or segm (needed with --res)")
      ->check(CLI::IsMember({"bbox", "segm"}));
  command->add_flag("--classwise", options->classwise, "also per-category AP");
  command->add_option("--stats-json", options->stats_json,
                      "write the 12 stats (and per-category APs) as json");
  command->add_option("--threads", options->threads, "worker threads (0: all cores)")
      ->default_val(0);
  command->callback([&exit_code, options] { exit_code = run_coco_eval(*options); });
}

}  // namespace mrcnn::cli
