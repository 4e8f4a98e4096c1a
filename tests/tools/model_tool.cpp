// Test helper: runs our Mask R-CNN with torchvision's settings on images and dumps every stage.
//   model_tool CHECKPOINT OUT_DIR MIN_SIZE MAX_SIZE SCORE_THRESH IMAGE...
// Writes OUT_DIR/<name>.bin (raw little-endian) and OUT_DIR/manifest.txt lines
// "<name> <dtype> <dim0> <dim1> ...": features P2..P6 (feature_i), proposals per image
// (proposals_k), detections per image in resized coordinates (boxes_k, scores_k, labels_k,
// masks_k) and final results in image coordinates (final_boxes_k, pasted_k).
#include <ATen/ATen.h>

#include <fstream>
#include <iostream>

#include "mrcnn/io/image.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/modeling/weights.h"
#include "mrcnn/ops/paste_masks.h"

using namespace mrcnn;

int main(int argc, char** argv) {
  if (argc < 7) {
    std::cerr << "usage: model_tool CHECKPOINT OUT_DIR MIN_SIZE MAX_SIZE SCORE_THRESH IMAGE...\n";
    return 2;
  }
  try {
    modeling::MaskRCNNOptions options = modeling::torchvision_options(91);
    options.transform.min_size = std::stoll(argv[3]);
    options.transform.max_size = std::stoll(argv[4]);
    options.roi_heads.score_thresh = std::stod(argv[5]);
    modeling::MaskRCNN model(options);
    const auto report = modeling::load_weights(*model, io::load_weights_file(argv[1]), {}, argv[1]);
    std::cerr << report.summary() << "\n";

    std::vector<at::Tensor> images;
    for (int i = 6; i < argc; ++i) {
      images.push_back(io::decode_image_file(argv[i]).permute({2, 0, 1}).to(at::kFloat).div(255));
    }
    modeling::InferenceTrace trace;
    const auto results = model->predict(images, &trace);

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
    dump("batch", trace.batch.tensors);
    for (std::size_t i = 0; i < trace.features.size(); ++i)
      dump("feature_" + std::to_string(i), trace.features[i]);
    for (std::size_t k = 0; k < results.size(); ++k) {
      const std::string s = std::to_string(k);
      dump("proposals_" + s, trace.proposals[k]);
      dump("boxes_" + s, trace.detections[k].boxes);
      dump("scores_" + s, trace.detections[k].scores);
      dump("labels_" + s, trace.detections[k].labels);
      dump("masks_" + s, trace.detections[k].masks);
      dump("final_boxes_" + s, results[k].boxes);
      dump("pasted_" + s, ops::paste_masks(results[k].masks, results[k].boxes, images[k].size(1),
                                           images[k].size(2)));
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
