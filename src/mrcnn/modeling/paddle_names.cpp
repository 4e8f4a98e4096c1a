#include "mrcnn/modeling/paddle_names.h"

#include <ATen/ATen.h>

#include <map>
#include <optional>
#include <regex>

namespace mrcnn::modeling {
namespace {

// How a tensor changes on its way from Paddle's layout to ours.
enum class Layout {
  kSame,
  kTransposed,             // Linear weight [in, out] -> [out, in]
  kBackgroundLastScores,   // classification weight or bias, background moved to the front
  kBoxDeltasNoBackground,  // per-class box deltas, zero rows for the background added
  kMasksNoBackground,      // per-class mask logits, a zero background class added
};

struct Target {
  std::string name;
  Layout layout = Layout::kSame;
};

// Paddle's norm parameter names -> ours.
std::string norm_field(const std::string& field) {
  if (field == "_mean") return "running_mean";
  if (field == "_variance") return "running_var";
  return field;  // weight, bias
}

// A ConvNormLayer's "conv.weight" or "norm.<field>" under our conv and norm names.
std::optional<std::string> conv_norm(const std::string& rest, const std::string& conv,
                                     const std::string& norm) {
  if (rest == "conv.weight") return conv + ".weight";
  if (rest.rfind("norm.", 0) == 0) return norm + "." + norm_field(rest.substr(5));
  return std::nullopt;
}

// Block index within a stage from Paddle's letter names: res4a, res4b, ... or, for stages of
// more than ten blocks, res4a, res4b1, res4b2, ...
std::optional<int> block_index(const std::string& letters) {
  if (letters == "a") return 0;
  if (letters.size() == 1 && letters[0] >= 'b' && letters[0] <= 'z') return letters[0] - 'a';
  if (letters.size() > 1 && letters[0] == 'b') {
    const int n = std::stoi(letters.substr(1));
    return n >= 1 ? std::optional<int>(n) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<Target> backbone_target(const std::string& key) {
  static const std::regex kStem(R"(^conv1\.(conv1|conv1_1|conv1_2|conv1_3)\.(.+)$)");
  static const std::regex kBlock(
      R"(^res([2-5])\.res[2-5]([a-z][0-9]*)\.(branch2a|branch2b|branch2c|short)\.(.+)$)");
  std::smatch m;
  if (std::regex_match(key, m, kStem)) {
    const std::string suffix = m[1].str().substr(5);  // "", "_1", "_2", "_3"
    const auto name = conv_norm(m[2], "backbone.body.conv1" + suffix, "backbone.body.bn1" + suffix);
    if (name) return Target{*name};
    return std::nullopt;
  }
  if (std::regex_match(key, m, kBlock)) {
    const int stage = std::stoi(m[1]) - 1;
    const std::optional<int> block = block_index(m[2]);
    if (!block) return std::nullopt;
    const std::string prefix =
        "backbone.body.layer" + std::to_string(stage) + "." + std::to_string(*block) + ".";
    const std::string branch = m[3];
    std::string rest = m[4];
    if (branch == "short") {
      // Variant d's striding shortcut nests the conv under "short.conv" after its pool.
      if (rest.rfind("conv.conv.", 0) == 0 || rest.rfind("conv.norm.", 0) == 0)
        rest = rest.substr(5);
      const auto name = conv_norm(rest, prefix + "downsample.0", prefix + "downsample.1");
      if (name) return Target{*name};
      return std::nullopt;
    }
    const std::string n = branch == "branch2a" ? "1" : branch == "branch2b" ? "2" : "3";
    const auto name = conv_norm(rest, prefix + "conv" + n, prefix + "bn" + n);
    if (name) return Target{*name};
  }
  return std::nullopt;
}

std::optional<Target> target_of(const std::string& key) {
  if (key.rfind("backbone.", 0) == 0) return backbone_target(key.substr(9));
  if (auto plain = backbone_target(key)) return plain;  // an ImageNet backbone file
  static const std::regex kLateral(R"(^neck\.fpn_inner_res([2-5])_sum(_lateral)?\.(weight|bias)$)");
  static const std::regex kOutput(R"(^neck\.fpn_res([2-5])_sum\.(weight|bias)$)");
  static const std::regex kMaskConv(
      R"(^mask_head\.head\.upsample\.mask_inter_feat_([1-9])\.(weight|bias)$)");
  std::smatch m;
  if (std::regex_match(key, m, kLateral)) {
    return Target{"backbone.fpn.inner_blocks." + std::to_string(std::stoi(m[1]) - 2) + ".0." +
                  m[3].str()};
  }
  if (std::regex_match(key, m, kOutput)) {
    return Target{"backbone.fpn.layer_blocks." + std::to_string(std::stoi(m[1]) - 2) + ".0." +
                  m[2].str()};
  }
  if (std::regex_match(key, m, kMaskConv)) {
    return Target{"roi_heads.mask_head." + std::to_string(std::stoi(m[1]) - 1) + ".0." +
                  m[2].str()};
  }
  static const std::map<std::string, Target> kFixed = {
      {"rpn_head.rpn_feat.rpn_conv.weight", {"rpn.head.conv.0.0.weight"}},
      {"rpn_head.rpn_feat.rpn_conv.bias", {"rpn.head.conv.0.0.bias"}},
      {"rpn_head.rpn_rois_score.weight", {"rpn.head.cls_logits.weight"}},
      {"rpn_head.rpn_rois_score.bias", {"rpn.head.cls_logits.bias"}},
      {"rpn_head.rpn_rois_delta.weight", {"rpn.head.bbox_pred.weight"}},
      {"rpn_head.rpn_rois_delta.bias", {"rpn.head.bbox_pred.bias"}},
      {"bbox_head.head.fc6.weight", {"roi_heads.box_head.fc6.weight", Layout::kTransposed}},
      {"bbox_head.head.fc6.bias", {"roi_heads.box_head.fc6.bias"}},
      {"bbox_head.head.fc7.weight", {"roi_heads.box_head.fc7.weight", Layout::kTransposed}},
      {"bbox_head.head.fc7.bias", {"roi_heads.box_head.fc7.bias"}},
      {"bbox_head.bbox_score.weight",
       {"roi_heads.box_predictor.cls_score.weight", Layout::kBackgroundLastScores}},
      {"bbox_head.bbox_score.bias",
       {"roi_heads.box_predictor.cls_score.bias", Layout::kBackgroundLastScores}},
      {"bbox_head.bbox_delta.weight",
       {"roi_heads.box_predictor.bbox_pred.weight", Layout::kBoxDeltasNoBackground}},
      {"bbox_head.bbox_delta.bias",
       {"roi_heads.box_predictor.bbox_pred.bias", Layout::kBoxDeltasNoBackground}},
      {"mask_head.head.upsample.conv5_mask.weight", {"roi_heads.mask_predictor.conv5_mask.weight"}},
      {"mask_head.head.upsample.conv5_mask.bias", {"roi_heads.mask_predictor.conv5_mask.bias"}},
      {"mask_head.mask_fcn_logits.weight",
       {"roi_heads.mask_predictor.mask_fcn_logits.weight", Layout::kMasksNoBackground}},
      {"mask_head.mask_fcn_logits.bias",
       {"roi_heads.mask_predictor.mask_fcn_logits.bias", Layout::kMasksNoBackground}},
  };
  const auto fixed = kFixed.find(key);
  if (fixed != kFixed.end()) return fixed->second;
  return std::nullopt;
}

at::Tensor to_our_layout(const at::Tensor& t, Layout layout) {
  switch (layout) {
    case Layout::kSame:
      return t;
    case Layout::kTransposed:
      return t.t().contiguous();
    case Layout::kBackgroundLastScores: {
      // weight [in, C+1] (Paddle's Linear) -> [C+1, in]; bias [C+1]. Background: last -> first.
      const at::Tensor classes_first = t.dim() == 2 ? t.t() : t;
      const int64_t n = classes_first.size(0);
      return at::cat({classes_first.slice(0, n - 1), classes_first.slice(0, 0, n - 1)}, 0)
          .contiguous();
    }
    case Layout::kBoxDeltasNoBackground: {
      // weight [in, 4C] -> [4(C+1), in]; bias [4C] -> [4(C+1)]; the background's 4 rows zero.
      const at::Tensor rows_first = t.dim() == 2 ? t.t() : t;
      std::vector<int64_t> shape = rows_first.sizes().vec();
      shape[0] = 4;
      return at::cat({at::zeros(shape, rows_first.options()), rows_first}, 0).contiguous();
    }
    case Layout::kMasksNoBackground: {
      std::vector<int64_t> shape = t.sizes().vec();
      shape[0] = 1;
      return at::cat({at::zeros(shape, t.options()), t}, 0).contiguous();
    }
  }
  return t;
}

}  // namespace

bool uses_paddle_names(const io::NamedTensors& tensors) {
  for (const auto& [key, tensor] : tensors) {
    if (key.rfind("backbone.res2.", 0) == 0 || key.rfind("res2.res2a.", 0) == 0 ||
        key.rfind("backbone.conv1.conv1", 0) == 0 || key.rfind("rpn_head.rpn_", 0) == 0 ||
        key.rfind("bbox_head.bbox_score", 0) == 0) {
      return true;
    }
  }
  return false;
}

io::NamedTensors from_paddle_names(const io::NamedTensors& tensors,
                                   std::vector<std::string>* unknown) {
  io::NamedTensors out;
  for (const auto& [key, tensor] : tensors) {
    const std::optional<Target> target = target_of(key);
    if (!target) {
      if (unknown != nullptr) unknown->push_back(key);
      out.emplace_back(key, tensor);
      continue;
    }
    out.emplace_back(target->name, to_our_layout(tensor, target->layout));
  }
  return out;
}

}  // namespace mrcnn::modeling
