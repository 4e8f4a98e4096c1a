// Test helper: runs our Mask R-CNN with torchvision's settings on images and dumps every stage.
//   model_tool CHECKPOINT OUT_DIR MIN_SIZE MAX_SIZE SCORE_THRESH IMAGE...
// Writes OUT_DIR/<name>.bin (raw little-endian) and OUT_DIR/manifest.txt lines
// "<name> <dtype> <dim0> <dim1> ...": the preprocessed batch, features P2..P6 (feature_i),
// proposals per image (proposals_k), detections per image in resized coordinates (boxes_k,
// scores_k, labels_k, masks_k) and final results in image coordinates (final_boxes_k,
// pasted_k).
#include <ATen/ATen.h>

#include <fstream>
#include <iostream>

#include "mrcnn/data/transforms.h"
#include "mrcnn/io/image.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/modeling/weights.h"
#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/structures/boxes.h"

using namespace mrcnn;

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: model_tool CHECKPOINT OUT_DIR MIN_SIZE MAX_SIZE SCORE_THRESH IMAGE...\n";
    return 2;
  }
  try {
    modeling::MaskRCNNOptions options = modeling::torchvision_options(91);
    options.roi_heads.score_thresh = std::stod(argv[5]);
    modeling::MaskRCNN model(options);
    const auto report = modeling::load_weights(*model, io::load_weights_file(argv[1]), {}, argv[1]);
    std::cerr << report.summary() << "\n";
    model->eval();

    // torchvision's GeneralizedRCNNTransform: bilinear resize to floored sizes, ImageNet
    // mean/std, pad to 32.
    data::TransformOptions transform;
    transform.target_sizes = {{std::stoll(argv[3]), std::stoll(argv[4])}};
    transform.interp = data::Interpolation::kBilinear;
    transform.size_rounding = data::SizeRounding::kFloor;
    std::vector<at::Tensor> images;
    for (int i = 6; i < argc; ++i) images.push_back(io::decode_image_file(argv[i]));
    const structures::ImageList batch =
        data::preprocess_images(images, transform, c10::Device(c10::kCPU));
    modeling::InferenceTrace trace;
    const auto detections = model->predict(batch, &trace);

    const std::string out = argv[2];
    std::ofstream manifest(out + "/manifest.txt");
    auto dump = [&](const std::string& name, const at::Tensor& t) {
      const at::Tensor c = t.contiguous().cpu();
      std::ofstream(out + "/" + name + ".bin", std::ios::binary)
          .write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.nbytes()));
      manifest << name << " " << (c.scalar_type() == at::kLong ? "int64" : "float32");
      for (auto s : c.sizes()) manifest << " " << s;
      manifest << "\n";
    };
    dump("batch", batch.tensor);
    for (std::size_t i = 0; i < trace.features.size(); ++i)
      dump("feature_" + std::to_string(i), trace.features[i]);
    for (std::size_t k = 0; k < detections.size(); ++k) {
      const std::string s = std::to_string(k);
      const structures::Instances& d = detections[k];
      const at::Tensor final_boxes =
          structures::rescale_boxes(d.boxes, batch.image_sizes[k], batch.original_sizes[k]);
      dump("proposals_" + s, trace.proposals[k]);
      dump("boxes_" + s, d.boxes);
      dump("scores_" + s, d.scores);
      dump("labels_" + s, d.labels);
      dump("masks_" + s, d.mask_probs);
      dump("final_boxes_" + s, final_boxes);
      dump("pasted_" + s, ops::paste_masks(d.mask_probs, final_boxes, batch.original_sizes[k][0],
                                           batch.original_sizes[k][1]));
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
