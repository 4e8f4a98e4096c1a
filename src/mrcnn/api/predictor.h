// The public C++ API for applications: load a config and weights once, then predict on images.
//
//   auto predictor =
//   mrcnn::api::Predictor::load("configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml",
//                                                "maskrcnn_resnet50_fpn_coco.pth", "cuda");
//   for (const auto& d : predictor.predict_file("street.jpg")) { d.box, d.score, d.category_name,
//   d.mask }
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace mrcnn::api {

struct Detection {
  std::array<float, 4> box;  // x1, y1, x2, y2 in image pixels
  float score = 0;
  int64_t category_id = 0;
  std::string category_name;  // from TestDataset.anno_path when available
  at::Tensor mask;            // bool [height, width], on the CPU
};

class Predictor {
 public:
  // device: "cpu", "cuda", "cuda:1", ... overrides: "-o"-style key=value strings.
  static Predictor load(const std::string& config_path, const std::string& weights_path,
                        const std::string& device = "cpu",
                        const std::vector<std::string>& overrides = {});

  // image: uint8 [height, width, 3] RGB. Detections by descending score.
  std::vector<Detection> predict(const at::Tensor& image) const;
  std::vector<Detection> predict_file(const std::string& image_path) const;

  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;

 private:
  struct State;
  explicit Predictor(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mrcnn::api
