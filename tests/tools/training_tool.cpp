// Test helper: runs the matcher and the losses on tensors from a safetensors file.
//   training_tool matcher|rpn_loss|fast_rcnn_loss|mask_rcnn_loss IN.safetensors OUT.safetensors
#include <iostream>
#include <map>

#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/losses.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/structures/boxes.h"

using namespace mrcnn;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: training_tool OP IN.safetensors OUT.safetensors\n";
    return 2;
  }
  try {
    std::map<std::string, at::Tensor> in;
    for (auto& [name, tensor] : io::load_safetensors(argv[2])) in[name] = tensor;
    const std::string op = argv[1];
    io::NamedTensors out;
    if (op == "matcher") {
      const auto thresholds = in.at("thresholds");
      const modeling::Matcher matcher(thresholds[0].item<double>(), thresholds[1].item<double>(),
                                      thresholds[2].item<double>() != 0);
      out.emplace_back("matches", matcher(in.at("quality")));
      out.emplace_back("iou", structures::box_iou(in.at("a"), in.at("b")));
    } else if (op == "rpn_loss") {
      auto [objectness, box] =
          modeling::rpn_loss(in.at("objectness"), in.at("deltas"), in.at("labels"),
                             in.at("targets"), in.at("positive"), in.at("negative"));
      out = {{"objectness", objectness}, {"box", box}};
    } else if (op == "fast_rcnn_loss") {
      auto [classification, box] = modeling::fast_rcnn_loss(
          in.at("class_logits"), in.at("box_regression"), in.at("labels"), in.at("targets"));
      out = {{"classification", classification}, {"box", box}};
    } else if (op == "mask_rcnn_loss") {
      std::vector<at::Tensor> proposals, masks, labels, matched;
      for (int i = 0; in.count("proposals_" + std::to_string(i)); ++i) {
        const std::string k = std::to_string(i);
        proposals.push_back(in.at("proposals_" + k));
        masks.push_back(in.at("masks_" + k));
        labels.push_back(in.at("labels_" + k));
        matched.push_back(in.at("matched_" + k));
      }
      out = {{"loss",
              modeling::mask_rcnn_loss(in.at("mask_logits"), proposals, masks, labels, matched)}};
    } else {
      std::cerr << "unknown op " << op << "\n";
      return 2;
    }
    io::save_safetensors(argv[3], out);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
