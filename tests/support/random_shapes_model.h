// Test support: the demo config's model with seeded random weights, on disk beside a small
// generated shapes set, as an application would find them: <dir>/model.yml (every detection
// kept: score threshold 0), <dir>/weights.safetensors and <dir>/shapes/val/000001.jpg, ...
#pragma once

#include <ATen/ATen.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "mrcnn/build/model.h"
#include "mrcnn/config/loader.h"
#include "mrcnn/data/shapes.h"
#include "mrcnn/engine/checkpoint.h"
#include "mrcnn/io/safetensors.h"

namespace mrcnn::testing {

struct RandomShapesModel {
  std::filesystem::path dir;
  std::string config, weights;
};

inline RandomShapesModel write_random_shapes_model(const std::filesystem::path& dir,
                                                   int64_t val_images) {
  std::filesystem::remove_all(dir);
  data::make_shapes({.out_dir = (dir / "shapes").string(),
                     .train_images = 0,
                     .val_images = val_images,
                     .seed = 3,
                     .width = 96,
                     .height = 80});
  RandomShapesModel made{dir, (dir / "model.yml").string(), (dir / "weights.safetensors").string()};
  std::ofstream(made.config) << "_BASE_: ['" << std::getenv("MRCNN_SOURCE_DIR")
                             << "/configs/shapes/mask_rcnn_r18_fpn_shapes.yml']\n"
                             << "TestDataset: {dataset_dir: " << (dir / "shapes").string() << "}\n"
                             << "BBoxPostProcess: {nms: {score_threshold: 0.0}}\n";
  // Random weights, saved as a checkpoint's weights file would be.
  at::manual_seed(1);
  modeling::MaskRCNN model(build::model_options(config::load_config(made.config)));
  io::save_safetensors(made.weights, engine::model_state(*model));
  return made;
}

}  // namespace mrcnn::testing
