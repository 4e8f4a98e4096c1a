#include "mrcnn/build/bench_job.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>

#include "mrcnn/build/device.h"
#include "mrcnn/build/model_setup.h"
#include "mrcnn/build/paths.h"
#include "mrcnn/build/readers.h"
#include "mrcnn/common/memory.h"
#include "mrcnn/data/transforms.h"
#include "mrcnn/io/image.h"
#include "mrcnn/solver/amp.h"

namespace mrcnn::build {

BenchResult run_bench_job(const config::Config& cfg, const BenchJobOptions& o) {
  const c10::Device device = select_device(cfg, o.device);
  modeling::MaskRCNN model = load_model(cfg, resolve_weights_path(o.weights, cfg), device);
  const data::TransformOptions transform = transform_options(cfg.eval_reader);
  std::vector<at::Tensor> images;
  for (const auto& path : o.images)
    images.push_back(io::decode_image_file(path, cfg.max_image_pixels, decode_options(cfg)));
  auto run_all = [&] {
    solver::AutocastScope autocast(device.type(), select_amp_dtype(cfg, device), o.amp);
    int64_t detections = 0;
    for (const auto& image : images) {
      detections += model->detect(data::preprocess_images({image}, transform, device))[0].size();
    }
    return detections;
  };
  for (int i = 0; i < o.warmup; ++i) run_all();
  BenchResult result;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.repeat; ++i) result.detections = run_all();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.seconds_per_image = seconds / (o.repeat * static_cast<double>(images.size()));
  result.threads = at::get_num_threads();
  result.peak_rss_mib = host_peak_rss_mib();
  result.device = device.str();
  return result;
}

}  // namespace mrcnn::build
