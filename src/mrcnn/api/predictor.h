// The public C++ API for applications: load a config and weights once, then predict on images,
// from as many threads as you like (prediction changes no shared state).
//
//   auto predictor = mrcnn::api::Predictor::load("config.yml", "weights.safetensors", "cuda");
//   const mrcnn::structures::Instances found = predictor.predict_file("street.jpg");
//   for (int64_t i = 0; i < found.size(); ++i)
//     std::cout << predictor.labels().category_name(predictor.labels().category_of(
//                      found.labels[i].item<int64_t>()))
//               << " " << found.scores[i].item<float>() << "\n";
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "mrcnn/io/image.h"
#include "mrcnn/structures/instances.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::api {

class Predictor {
 public:
  // device: "cpu", "cuda", "cuda:1", ...; empty: the config decides. weights_path: empty for
  // the config's `weights`. overrides: "-o"-style key=value strings.
  static Predictor load(const std::string& config_path, const std::string& weights_path,
                        const std::string& device = "cpu",
                        const std::vector<std::string>& overrides = {});

  // image: uint8 [height, width, 3] RGB. The detections above the score threshold, by
  // descending score, on the CPU: boxes [N, 4] (x1, y1, x2, y2 in image pixels), scores,
  // labels (model labels: labels() names them) and mask_rles (binary masks at the image's
  // size; coco/rle.h decodes them).
  structures::Instances predict(const at::Tensor& image) const;
  structures::Instances predict_file(const std::string& image_path) const;
  // Several images in one forward pass (each padded to the largest), as the TestReader's
  // batch_size asks. With min_score, detections scoring lower are dropped before their masks
  // are pasted (0: every detection the model reports).
  std::vector<structures::Instances> predict(const std::vector<at::Tensor>& images,
                                             double min_score = 0) const;

  // What was loaded, for a server's model report and its image-size limit.
  struct Description {
    std::string config_name;       // the config file's name without extension
    std::string weights_path;      // as resolved (the config's `weights` when none was given)
    std::string device;            // "cpu", "cuda:0", ...
    int64_t max_image_pixels = 0;  // the config's max_image_pixels (0: no limit)
    io::DecodeOptions decode;      // how the config's images are decoded
  };
  const Description& description() const;

  // Model labels -> the categories of TestDataset.anno_path (or "class N" without one).
  const structures::LabelMap& labels() const;

  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;

 private:
  struct State;
  explicit Predictor(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace mrcnn::api
