#include "mrcnn/modeling/weights.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>

#include "mrcnn/common/error.h"
#include "mrcnn/common/strings.h"
#include "mrcnn/modeling/paddle_names.h"

namespace mrcnn::modeling {
namespace {

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

bool is_class_specific(const std::string& key) {
  return key.find("box_predictor.cls_score.") != std::string::npos ||
         key.find("box_predictor.bbox_pred.") != std::string::npos ||
         key.find("mask_predictor.mask_fcn_logits.") != std::string::npos;
}

}  // namespace

std::string canonical_key(const std::string& key) {
  // torchvision wrapped these convs in Conv2dNormActivation (a Sequential) in 0.13.
  static const std::vector<std::pair<std::regex, std::string>> kRenames = {
      {std::regex(R"(^(backbone\.fpn\.(inner|layer)_blocks\.\d+)\.(weight|bias)$)"), "$1.0.$3"},
      {std::regex(R"(^(rpn\.head\.conv)\.(weight|bias)$)"), "$1.0.0.$2"},
  };
  for (const auto& [pattern, replacement] : kRenames) {
    if (std::regex_match(key, pattern)) return std::regex_replace(key, pattern, replacement);
  }
  static const std::regex kMaskFcn(R"(^roi_heads\.mask_head\.mask_fcn(\d)\.(weight|bias)$)");
  std::smatch match;
  if (std::regex_match(key, match, kMaskFcn)) {
    return "roi_heads.mask_head." + std::to_string(std::stoi(match[1]) - 1) + ".0." +
           match[2].str();
  }
  return key;
}

std::string LoadReport::summary() const {
  std::string out = std::to_string(loaded.size()) + " tensors loaded";
  auto list = [&](const char* what, const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    out += "\n  " + std::to_string(keys.size()) + " " + what + ": " +
           join(std::vector<std::string>(keys.begin(),
                                         keys.begin() + std::min<std::size_t>(keys.size(), 12)),
                ", ");
    if (keys.size() > 12) out += ", ...";
  };
  list("missing from the file", missing);
  list("not used by the model", unexpected);
  list("with the wrong shape", wrong_shape);
  list("class-specific, skipped", skipped);
  return out;
}

LoadReport load_weights(torch::nn::Module& model, const io::NamedTensors& file_tensors,
                        const LoadOptions& options, const std::string& source) {
  // PaddleDetection's files arrive under their own names and layouts (paddle_names.h).
  const io::NamedTensors tensors =
      uses_paddle_names(file_tensors) ? from_paddle_names(file_tensors) : file_tensors;
  torch::NoGradGuard no_grad;
  std::map<std::string, at::Tensor> targets;
  for (const auto& p : model.named_parameters(true)) targets.emplace(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) targets.emplace(b.key(), b.value());

  LoadReport report;
  std::map<std::string, bool> seen;
  for (const auto& [file_key, tensor] : tensors) {
    const std::string key = canonical_key(options.prefix + file_key);
    const auto it = targets.find(key);
    if (it == targets.end()) {
      // BatchNorm step counters and an ImageNet classifier are not part of the detector.
      const bool harmless = key.ends_with("num_batches_tracked") ||
                            (!options.prefix.empty() && key.starts_with(options.prefix + "fc."));
      if (!harmless) report.unexpected.push_back(file_key);
      continue;
    }
    seen[key] = true;
    if (it->second.sizes() != tensor.sizes()) {
      if (options.skip_mismatched_class_layers && is_class_specific(key)) {
        report.skipped.push_back(key);
      } else {
        report.wrong_shape.push_back(key + ": file " + shape_text(tensor.sizes()) + " vs model " +
                                     shape_text(it->second.sizes()));
      }
      continue;
    }
    it->second.copy_(tensor);
    report.loaded.push_back(key);
  }
  for (const auto& [key, tensor] : targets) {
    if (seen.count(key) || key.ends_with("num_batches_tracked")) continue;
    if (!options.prefix.empty() && !key.starts_with(options.prefix)) continue;
    report.missing.push_back(key);
  }
  if (options.strict && (!report.missing.empty() || !report.wrong_shape.empty() ||
                         (!report.unexpected.empty() && !options.allow_unexpected))) {
    throw Error(ErrorLocation{.file = source}, "weights do not fit the model: " + report.summary());
  }
  return report;
}

LoadReport load_pretrain_weights(torch::nn::Module& model, const io::NamedTensors& file_tensors,
                                 const std::string& source) {
  io::NamedTensors tensors = file_tensors;
  const std::string body = "backbone.body.";
  if (uses_paddle_names(tensors)) {
    tensors = from_paddle_names(tensors);
    // A Paddle backbone file (every name under the body once mapped, or an ImageNet head
    // beside it) loads like torchvision's ImageNet files: by the body's names alone.
    const bool backbone_only =
        std::all_of(tensors.begin(), tensors.end(),
                    [&](const auto& t) {
                      return t.first.starts_with(body) || !t.first.starts_with("backbone.");
                    }) &&
        std::none_of(tensors.begin(), tensors.end(), [](const auto& t) {
          return t.first.starts_with("roi_heads.") || t.first.starts_with("rpn.");
        });
    if (backbone_only) {
      io::NamedTensors stripped;
      for (auto& [key, tensor] : tensors) {
        if (key.starts_with(body)) {
          stripped.emplace_back(key.substr(body.size()), tensor);
        } else if (!key.starts_with("fc")) {   // an ImageNet classifier is no part of a detector
          stripped.emplace_back(key, tensor);  // reported as not used
        }
      }
      tensors = std::move(stripped);
      LoadOptions options;
      options.prefix = body;
      // PaddleDetection's own loader takes what matches; what does not is listed here.
      options.allow_unexpected = true;
      return load_weights(model, tensors, options, source);
    }
  }
  const bool imagenet = std::any_of(tensors.begin(), tensors.end(), [](const auto& t) {
    return t.first.starts_with("layer1.") || t.first == "conv1.weight";
  });
  LoadOptions options;
  if (imagenet) {
    options.prefix = body;
  } else {
    options.skip_mismatched_class_layers = true;
  }
  return load_weights(model, tensors, options, source);
}

}  // namespace mrcnn::modeling
