#include "mrcnn/build/eval_job.h"

#include <filesystem>

#include "mrcnn/build/device.h"
#include "mrcnn/build/distributed_setup.h"
#include "mrcnn/build/eval_pictures.h"
#include "mrcnn/build/labels.h"
#include "mrcnn/build/model_setup.h"
#include "mrcnn/build/paths.h"
#include "mrcnn/build/readers.h"
#include "mrcnn/coco/report.h"
#include "mrcnn/common/file.h"
#include "mrcnn/evaluation/dataset_eval.h"
#include "mrcnn/io/image.h"

namespace mrcnn::build {
namespace {

void print_result(std::ostream* out, const coco::EvalResult& result, const coco::Dataset& gt,
                  bool classwise) {
  if (out == nullptr) return;
  *out << "Evaluate annotation type *" << coco::iou_type_name(result.type) << "*\n"
       << result.summary();
  if (classwise) *out << result.per_category_table(gt);
}

void write_pictures(const EvalJobOptions& options, const std::string& folder,
                    const coco::Dataset& gt, const structures::LabelMap& labels,
                    const data::ImageFolder& images, const PredictImage& predict,
                    const EvalJobResult& result, std::ostream* notes) {
  if (options.visualize <= 0) return;
  const std::string pictures = join_path(folder, "visualize");
  create_directories(pictures);
  for (const auto& [name, picture] : truth_beside_predictions(
           gt, labels, images, predict, options.visualize, options.draw_threshold)) {
    io::write_image_file(picture,
                         join_path(pictures, std::filesystem::path(name).stem().string() + ".png"));
  }
  io::write_image_file(per_category_ap_chart(result.bbox, result.segm, gt),
                       join_path(pictures, "per_category_ap.png"));
  io::write_image_file(precision_recall_chart(result.bbox, result.segm),
                       join_path(pictures, "precision_recall.png"));
  if (notes != nullptr) {
    *notes << "pictures of "
           << std::min<int64_t>(options.visualize, static_cast<int64_t>(gt.images.size()))
           << " images, per_category_ap.png and precision_recall.png in " << pictures << "\n";
  }
}

}  // namespace

EvalJobResult run_eval_job(const config::Config& cfg, const EvalJobOptions& options,
                           const JobOutput& output) {
  const std::string folder = options.output_dir.empty() ? output_dir(cfg) : options.output_dir;
  EvalJobResult result;
  if (options.json_eval) {
    const coco::Dataset gt =
        coco::load_dataset(dataset_path(cfg.eval_dataset, cfg.eval_dataset.anno_path));
    for (const auto& [file, type] : {std::pair{"bbox.json", coco::IouType::kBbox},
                                     std::pair{"mask.json", coco::IouType::kSegm}}) {
      const std::string path = join_path(folder, file);
      const coco::EvalResult scores = coco::evaluate(gt, coco::load_results(path, gt, type), type);
      print_result(output.out, scores, gt, options.classwise);
      (type == coco::IouType::kBbox ? result.bbox : result.segm) = scores;
    }
    result.scored = true;
    if (options.visualize > 0) {
      // The pictures show the results file's detections.
      const std::vector<coco::Detection> detections =
          coco::load_results(join_path(folder, "mask.json"), gt, coco::IouType::kSegm);
      const structures::LabelMap labels = label_map(cfg, gt);
      write_pictures(options, folder, gt, labels, image_folder(cfg, cfg.eval_dataset),
                     results_predictions(detections, labels), result, output.notes);
    }
    return result;
  }
  const DistributedRun run =
      setup_distributed(cfg, select_device(cfg, options.device), output.notes);
  const coco::Dataset gt =
      coco::load_dataset(dataset_path(cfg.eval_dataset, cfg.eval_dataset.anno_path));
  const structures::LabelMap labels = label_map(cfg, gt);
  const data::ImageFolder images = image_folder(cfg, cfg.eval_dataset);
  data::require_dataset_images(gt, images);  // before the model is loaded and run
  modeling::MaskRCNN model = load_model(cfg, resolve_weights_path(options.weights, cfg), run.device,
                                        run.is_root() ? output.notes : nullptr);
  evaluation::DatasetEvalOptions eval_options;
  eval_options.images = images;
  eval_options.output_dir = folder;
  eval_options.transform = transform_options(cfg.eval_reader);
  eval_options.batch_size = cfg.eval_reader.batch_size;
  eval_options.device = run.device;
  evaluation::EvalProgress progress;
  if (run.is_root() && output.progress) {
    progress = [&](int64_t done, int64_t total, double) { output.progress(done, total); };
  }
  // With several ranks each predicts its share of the images; rank 0 writes and scores.
  const evaluation::DatasetEvaluation evaluation =
      evaluation::evaluate_model(model, gt, labels, eval_options, progress, run.sharding("eval"));
  if (!evaluation.scored) return result;
  if (output.notes != nullptr) {
    *output.notes << "wrote " << evaluation.bbox_json_path << " and " << evaluation.mask_json_path
                  << " (" << evaluation.images_per_second << " images/s)\n";
  }
  print_result(output.out, evaluation.bbox, gt, options.classwise);
  print_result(output.out, evaluation.segm, gt, options.classwise);
  result.scored = true;
  result.bbox = evaluation.bbox;
  result.segm = evaluation.segm;
  model->eval();
  write_pictures(
      options, folder, gt, labels, images,
      model_predictions(model, eval_options.transform, run.device, options.draw_threshold), result,
      output.notes);
  return result;
}

}  // namespace mrcnn::build
