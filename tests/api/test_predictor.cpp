// The C++ API: one Predictor shared by four threads gives each image the detections a single
// thread gets.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "mrcnn/api/predictor.h"
#include "mrcnn/build/model.h"
#include "mrcnn/config/loader.h"
#include "mrcnn/data/shapes.h"
#include "mrcnn/engine/checkpoint.h"
#include "mrcnn/io/image.h"
#include "mrcnn/io/safetensors.h"

namespace mrcnn::api {
namespace {

namespace fs = std::filesystem;

void expect_same(const structures::Instances& a, const structures::Instances& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(at::equal(a.boxes, b.boxes));
  EXPECT_TRUE(at::equal(a.scores, b.scores));
  EXPECT_TRUE(at::equal(a.labels, b.labels));
  EXPECT_EQ(a.mask_rles, b.mask_rles);
}

TEST(Predictor, FourThreadsGetTheSingleThreadResults) {
  const fs::path dir =
      fs::temp_directory_path() / ("mrcnn_predictor_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  data::make_shapes({.out_dir = (dir / "shapes").string(),
                     .train_images = 0,
                     .val_images = 8,
                     .seed = 3,
                     .width = 96,
                     .height = 80});
  const std::string config_path = (dir / "model.yml").string();
  std::ofstream(config_path) << "_BASE_: ['" << std::getenv("MRCNN_SOURCE_DIR")
                             << "/configs/shapes/mask_rcnn_r18_fpn_shapes.yml']\n"
                             << "TestDataset: {dataset_dir: " << (dir / "shapes").string() << "}\n"
                             << "BBoxPostProcess: {nms: {score_threshold: 0.0}}\n";
  // Random weights, saved as a checkpoint's weights file would be.
  at::manual_seed(1);
  modeling::MaskRCNN model(build::model_options(config::load_config(config_path)));
  const std::string weights = (dir / "weights.safetensors").string();
  io::save_safetensors(weights, engine::model_state(*model));

  const Predictor predictor = Predictor::load(config_path, weights, "cpu");
  EXPECT_EQ(predictor.labels().category_name(1), "circle");
  std::vector<at::Tensor> images;
  for (const auto& entry : fs::directory_iterator(dir / "shapes" / "val"))
    images.push_back(io::decode_image_file(entry.path().string()));
  ASSERT_EQ(images.size(), 8u);
  std::vector<structures::Instances> alone;
  for (const at::Tensor& image : images) alone.push_back(predictor.predict(image));
  int64_t found = 0;
  for (const auto& d : alone) found += d.size();
  EXPECT_GT(found, 0) << "the test needs detections";

  std::vector<std::vector<structures::Instances>> together(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Each thread predicts every image, starting at a different one.
      for (std::size_t k = 0; k < images.size(); ++k)
        together[t].push_back(predictor.predict(images[(k + 2 * t) % images.size()]));
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t t = 0; t < 4; ++t) {
    for (std::size_t k = 0; k < images.size(); ++k) {
      SCOPED_TRACE("thread " + std::to_string(t) + ", image " + std::to_string(k));
      expect_same(together[t][k], alone[(k + 2 * t) % images.size()]);
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mrcnn::api
