// Loading weights into the model by name, with torchvision's current and older key names and
// PaddleDetection's (paddle_names.h), and a report of what did not fit.
#pragma once

#include <string>
#include <vector>

#include "mrcnn/io/tensor_dict.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::modeling {

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;      // in the model, not in the file
  std::vector<std::string> unexpected;   // in the file, not in the model
  std::vector<std::string> wrong_shape;  // "key: file [a, b] vs model [c, d]"
  std::vector<std::string> skipped;      // class-specific layers left out on purpose
  std::string summary() const;
};

struct LoadOptions {
  // Leave out the class-specific layers (cls_score, bbox_pred, mask_fcn_logits) when their
  // shapes differ: fine-tuning to another number of classes.
  bool skip_mismatched_class_layers = false;
  // Key prefix to add to every file key first ("backbone.body." for ImageNet ResNet files).
  std::string prefix;
  // Missing, unexpected or wrongly shaped keys are an error (mrcnn::Error listing them).
  bool strict = true;
  // With strict: unexpected keys are only reported (backbone files with extra heads).
  bool allow_unexpected = false;
};

// Renames older torchvision keys (before the Conv2dNormActivation wrappers) to current ones.
std::string canonical_key(const std::string& key);

LoadReport load_weights(torch::nn::Module& model, const io::NamedTensors& tensors,
                        const LoadOptions& options, const std::string& source);

// PaddleDetection's `pretrain_weights`: either an ImageNet ResNet (torchvision's keys conv1.*,
// layer1.*, fc.*, or PaddleDetection's conv1.conv1.*, res2.*), loaded into the backbone alone,
// or a whole detector, loaded except the class-specific layers
// when the number of classes differs (fine-tuning).
LoadReport load_pretrain_weights(torch::nn::Module& model, const io::NamedTensors& tensors,
                                 const std::string& source);

}  // namespace mrcnn::modeling
