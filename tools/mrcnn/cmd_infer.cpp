// `mrcnn infer -c CFG [--weights W] (--infer_img F | --infer_dir D) [--output_dir output]
//              [--draw_threshold 0.5] [--save_results]`
#include <fmt/format.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <unordered_map>

#include "commands.h"
#include "common_options.h"
#include "model_setup.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/strings.h"
#include "mrcnn/io/image.h"
#include "mrcnn/visualization/draw.h"
#include "progress.h"

namespace mrcnn::cli {
namespace {

namespace fs = std::filesystem;

struct InferOptions {
  ConfigOptions config;
  std::string weights;
  std::string infer_img;
  std::string infer_dir;
  std::string output_dir = "output";
  double draw_threshold = 0.5;
  bool save_results = false;
};

std::vector<fs::path> input_images(const InferOptions& o) {
  if (o.infer_img.empty() == o.infer_dir.empty())
    throw Error("give exactly one of --infer_img and --infer_dir");
  if (!o.infer_img.empty()) return {fs::path(o.infer_img)};
  if (!fs::is_directory(o.infer_dir))
    throw Error(ErrorLocation{.file = o.infer_dir}, "not a directory");
  std::vector<fs::path> images;
  for (const auto& entry : fs::directory_iterator(o.infer_dir)) {
    const std::string ext = to_lower(entry.path().extension().string());
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end());
  if (images.empty())
    throw Error(ErrorLocation{.file = o.infer_dir}, "no .jpg, .jpeg or .png images");
  return images;
}

int run_infer(const InferOptions& options) {
  const config::Config cfg = load_config(options.config);
  const c10::Device device = select_device(options.config, cfg);
  const std::vector<fs::path> images = input_images(options);
  const data::CocoDataset categories = evaluation::inference_categories(cfg);
  const evaluation::LabelMapping labels = evaluation::label_mapping(cfg, categories);
  auto model = load_model(cfg, resolve_weights_path(options.weights, cfg), device);
  fs::create_directories(options.output_dir);

  // Results files only with --save_results.
  std::unique_ptr<evaluation::ResultsFile> boxes, masks;
  if (options.save_results) {
    boxes = std::make_unique<evaluation::ResultsFile>(
        (fs::path(options.output_dir) / "bbox.json").string());
    masks = std::make_unique<evaluation::ResultsFile>(
        (fs::path(options.output_dir) / "mask.json").string());
  }
  // Image ids of the annotation file when an image's name is found there, else its position.
  std::unordered_map<std::string, int64_t> id_by_name;
  for (const auto& image : categories.images) id_by_name.emplace(image.file_name, image.id);
  Progress progress("infer", images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string path = images[i].string();
    at::Tensor picture = io::decode_image_file(path);
    const auto known = id_by_name.find(images[i].filename().string());
    const int64_t image_id =
        known != id_by_name.end() ? known->second : static_cast<int64_t>(i) + 1;
    const evaluation::ImageDetections d = evaluation::detect(
        model, picture, device, labels, cfg.mask_post_process.binary_thresh, image_id);
    if (boxes) evaluation::write_results(d, *boxes, *masks);

    picture = picture.clone();
    for (std::size_t k = 0; k < d.scores.size(); ++k) {
      if (d.scores[k] < options.draw_threshold) continue;
      const auto colour = visualization::category_colour(d.category_ids[k]);
      visualization::blend_mask(picture, d.masks[k], colour);
    }
    for (std::size_t k = 0; k < d.scores.size(); ++k) {
      if (d.scores[k] < options.draw_threshold) continue;
      const auto colour = visualization::category_colour(d.category_ids[k]);
      const auto& b = d.boxes_xywh[k];
      visualization::draw_box(picture, {b[0], b[1], b[0] + b[2], b[1] + b[3]}, colour);
      const int64_t index = categories.category_index(d.category_ids[k]);
      const std::string name =
          index >= 0 ? categories.categories[index].name : std::to_string(d.category_ids[k]);
      visualization::draw_caption(picture, static_cast<int64_t>(b[0]),
                                  static_cast<int64_t>(b[1]) - 18,
                                  fmt::format("{} {:.2f}", name, d.scores[k]), colour);
    }
    io::write_image_file(picture, (fs::path(options.output_dir) / images[i].filename()).string());
    progress.update(static_cast<int64_t>(i) + 1);
  }
  progress.finish();
  if (boxes) {
    boxes->finish();
    masks->finish();
  }
  std::cerr << "results in " << options.output_dir << "\n";
  return 0;
}

}  // namespace

void add_infer_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("infer", "Run a model on images and draw the results");
  auto options = std::make_shared<InferOptions>();
  add_config_options(*command, options->config);
  command->add_option("--weights", options->weights,
                      "weights file (default: the config's `weights`)");
  command->add_option("--infer_img", options->infer_img, "one image");
  command->add_option("--infer_dir", options->infer_dir, "a folder of images");
  command->add_option("--output_dir", options->output_dir, "output folder")->default_val("output");
  command->add_option("--draw_threshold", options->draw_threshold, "score threshold for drawing")
      ->default_val(0.5);
  command->add_flag("--save_results", options->save_results,
                    "also write bbox.json and mask.json (COCO results)");
  command->callback([&exit_code, options] { exit_code = run_infer(*options); });
}

}  // namespace mrcnn::cli
