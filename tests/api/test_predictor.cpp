// The C++ API: one Predictor shared by four threads gives each image the detections a single
// thread gets.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "mrcnn/api/predictor.h"
#include "mrcnn/io/image.h"
#include "support/random_shapes_model.h"

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
  const testing::RandomShapesModel model = testing::write_random_shapes_model(dir, 8);
  const Predictor predictor = Predictor::load(model.config, model.weights, "cpu");
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
