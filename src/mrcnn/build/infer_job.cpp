#include "mrcnn/build/infer_job.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "mrcnn/build/device.h"
#include "mrcnn/build/labels.h"
#include "mrcnn/build/model_setup.h"
#include "mrcnn/build/paths.h"
#include "mrcnn/build/readers.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/strings.h"
#include "mrcnn/data/transforms.h"
#include "mrcnn/evaluation/results_writer.h"
#include "mrcnn/io/image.h"
#include "mrcnn/visualization/draw.h"

namespace mrcnn::build {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> folder_images(const fs::path& folder) {
  if (!fs::is_directory(folder))
    throw Error(ErrorLocation{.file = folder.string()}, "not a directory");
  std::vector<fs::path> images;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string ext = to_lower(entry.path().extension().string());
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      images.push_back(entry.path());
  }
  std::sort(images.begin(), images.end());
  if (images.empty()) {
    throw Error(ErrorLocation{.file = folder.string()}, "no .jpg, .jpeg or .png images");
  }
  return images;
}

std::vector<fs::path> input_images(const config::Config& cfg, const InferJobOptions& o) {
  if (!o.image.empty() && !o.image_dir.empty())
    throw Error("give one of --infer_img and --infer_dir, not both");
  if (!o.image.empty()) return {fs::path(o.image)};
  if (!o.image_dir.empty()) return folder_images(o.image_dir);
  if (cfg.test_dataset.image_dir.empty()) {
    throw Error("give --infer_img or --infer_dir (or set TestDataset.image_dir)");
  }
  return folder_images(dataset_path(cfg.test_dataset, cfg.test_dataset.image_dir));
}

}  // namespace

InferJobResult run_infer_job(const config::Config& cfg, const InferJobOptions& options,
                             const JobOutput& output) {
  const c10::Device device = select_device(cfg, options.device);
  const std::vector<fs::path> images = input_images(cfg, options);
  const InferenceCategories categories = inference_categories(cfg);
  modeling::MaskRCNN model =
      load_model(cfg, resolve_weights_path(options.weights, cfg), device, output.notes);
  const data::TransformOptions transform = transform_options(cfg.test_reader);
  create_directories(options.output_dir);
  // Results files only with save_results; without them only what is drawn is kept, so only
  // those masks are pasted and encoded.
  evaluation::ResultsWriter results(options.save_results ? options.output_dir : std::string());
  const double min_score = options.save_results ? 0.0 : options.draw_threshold;
  // Image ids of the annotation file when an image's name is found there, else its position.
  std::unordered_map<std::string, int64_t> id_by_name;
  for (const auto& image : categories.dataset.images) id_by_name.emplace(image.file_name, image.id);

  InferJobResult result;
  if (output.progress) output.progress(0, static_cast<int64_t>(images.size()));
  const auto batch_size =
      static_cast<std::size_t>(std::max<int64_t>(cfg.test_reader.batch_size, 1));
  for (std::size_t first = 0; first < images.size(); first += batch_size) {
    const std::size_t last = std::min(images.size(), first + batch_size);
    std::vector<at::Tensor> pictures;
    std::vector<std::size_t> read;  // positions in `images` of `pictures`
    for (std::size_t i = first; i < last; ++i) {
      try {
        pictures.push_back(
            io::decode_image_file(images[i].string(), cfg.max_image_pixels, decode_options(cfg)));
        read.push_back(i);
      } catch (const Error& e) {  // one bad file costs its own results, not the others'
        result.failed.push_back(images[i].string());
        if (output.notes != nullptr) *output.notes << "skipped: " << e.what() << "\n";
      }
    }
    if (pictures.empty()) continue;
    const std::vector<structures::Instances> detections =
        model->detect(data::preprocess_images(pictures, transform, device), min_score);
    for (std::size_t k = 0; k < read.size(); ++k) {
      const std::size_t i = read[k];
      const structures::Instances& found = detections[k];
      const auto known = id_by_name.find(images[i].filename().string());
      const int64_t image_id =
          known != id_by_name.end() ? known->second : static_cast<int64_t>(i) + 1;
      if (options.save_results) {
        const auto entries = evaluation::coco_results(found, image_id, categories.labels);
        results.add(entries);
        result.detections += static_cast<int64_t>(entries.size());
      } else {
        result.detections += found.size();
      }
      at::Tensor picture = pictures[k].clone();
      visualization::draw_detections(picture, found, categories.labels, options.draw_threshold);
      io::write_image_file(picture, join_path(options.output_dir, images[i].filename().string()));
      ++result.images;
      if (output.progress) {
        output.progress(result.images + static_cast<int64_t>(result.failed.size()),
                        static_cast<int64_t>(images.size()));
      }
    }
  }
  results.finish();
  if (output.notes != nullptr) *output.notes << "results in " << options.output_dir << "\n";
  return result;
}

}  // namespace mrcnn::build
