#include "mrcnn/modeling/backbone/resnet.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/normalization.h>

namespace mrcnn::modeling {

namespace F = torch::nn::functional;

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t channels, double eps_) : eps(eps_) {
  weight = register_buffer("weight", torch::ones({channels}));
  bias = register_buffer("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
}

at::Tensor FrozenBatchNorm2dImpl::forward(const at::Tensor& x) {
  // Same arithmetic as torchvision's FrozenBatchNorm2d, so outputs agree to the last bit.
  const at::Tensor scale =
      weight.reshape({1, -1, 1, 1}) * (running_var.reshape({1, -1, 1, 1}) + eps).rsqrt();
  const at::Tensor shift =
      bias.reshape({1, -1, 1, 1}) - running_mean.reshape({1, -1, 1, 1}) * scale;
  return x * scale + shift;
}

torch::nn::AnyModule make_norm(const ResNetOptions& o, int64_t channels) {
  if (o.norm == NormKind::kBatchNorm) {
    if (o.freeze_norm) return torch::nn::AnyModule(FrozenBatchNorm2d(channels));
    return torch::nn::AnyModule(torch::nn::BatchNorm2d(channels));
  }
  torch::nn::GroupNorm norm(o.gn_groups, channels);
  if (o.freeze_norm) {
    for (auto& p : norm->parameters()) p.requires_grad_(false);
  }
  return torch::nn::AnyModule(norm);
}

namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// The shortcut's projection when a block changes shape: 1x1 conv + norm ("downsample.0/1").
// With average_down, a striding one pools first (in forward) and its conv keeps stride 1.
torch::nn::Sequential projection(int64_t in, int64_t out, int64_t stride, const ResNetOptions& o) {
  torch::nn::Sequential sequential(conv(in, out, 1, o.average_down ? 1 : stride, 0));
  sequential->push_back(make_norm(o, out));
  return sequential;
}

// Variant d's shortcut pooling: 2x2 windows, stride 2, a last partial window averaging only
// the pixels it covers (Paddle's AvgPool2D with ceil_mode and exclusive counting).
at::Tensor pool_for_shortcut(const at::Tensor& x) {
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2).ceil_mode(true));
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t in_channels, int64_t width, int64_t stride,
                               bool with_downsample, const ResNetOptions& o) {
  const int64_t out_channels = width * 4;
  // Variant b strides on the 3x3 conv, variant a on the first 1x1 conv.
  const int64_t stride1 = o.stride_in_1x1 ? stride : 1, stride2 = o.stride_in_1x1 ? 1 : stride;
  conv1 = register_module("conv1", conv(in_channels, width, 1, stride1, 0));
  bn1 = make_norm(o, width);
  register_module("bn1", bn1.ptr());
  conv2 = register_module("conv2", conv(width, width, 3, stride2, 1));
  bn2 = make_norm(o, width);
  register_module("bn2", bn2.ptr());
  conv3 = register_module("conv3", conv(width, out_channels, 1, 1, 0));
  bn3 = make_norm(o, out_channels);
  register_module("bn3", bn3.ptr());
  if (with_downsample) {
    downsample = register_module("downsample", projection(in_channels, out_channels, stride, o));
    pool_shortcut_ = o.average_down && stride > 1;
  }
}

at::Tensor BottleneckImpl::forward(const at::Tensor& x) {
  at::Tensor out = torch::relu(bn1.forward(conv1(x)));
  out = torch::relu(bn2.forward(conv2(out)));
  out = bn3.forward(conv3(out));
  const at::Tensor identity =
      downsample ? downsample->forward(pool_shortcut_ ? pool_for_shortcut(x) : x) : x;
  return torch::relu(out + identity);
}

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t width, int64_t stride,
                               bool with_downsample, const ResNetOptions& o) {
  conv1 = register_module("conv1", conv(in_channels, width, 3, stride, 1));
  bn1 = make_norm(o, width);
  register_module("bn1", bn1.ptr());
  conv2 = register_module("conv2", conv(width, width, 3, 1, 1));
  bn2 = make_norm(o, width);
  register_module("bn2", bn2.ptr());
  if (with_downsample) {
    downsample = register_module("downsample", projection(in_channels, width, stride, o));
    pool_shortcut_ = o.average_down && stride > 1;
  }
}

at::Tensor BasicBlockImpl::forward(const at::Tensor& x) {
  at::Tensor out = torch::relu(bn1.forward(conv1(x)));
  out = bn2.forward(conv2(out));
  const at::Tensor identity =
      downsample ? downsample->forward(pool_shortcut_ ? pool_for_shortcut(x) : x) : x;
  return torch::relu(out + identity);
}

namespace {

struct Layout {
  std::vector<int64_t> blocks;
  bool bottleneck;
};

Layout layout_of(int64_t depth) {
  switch (depth) {
    case 18:
      return {{2, 2, 2, 2}, false};
    case 34:
      return {{3, 4, 6, 3}, false};
    case 50:
      return {{3, 4, 6, 3}, true};
    case 101:
      return {{3, 4, 23, 3}, true};
    default:
      TORCH_CHECK(false, "ResNet depth must be 18, 34, 50 or 101, got ", depth);
  }
}

}  // namespace

std::vector<int64_t> ResNetImpl::out_channels() const {
  const int64_t expansion = layout_of(options_.depth).bottleneck ? 4 : 1;
  std::vector<int64_t> channels;
  for (int stage = 0; stage < 4; ++stage)
    channels.push_back((options_.base_channels << stage) * expansion);
  return channels;
}

ResNetImpl::ResNetImpl(const ResNetOptions& o) : options_(o) {
  const Layout layout = layout_of(o.depth);
  TORCH_CHECK(o.base_channels > 0, "ResNet base channels must be positive");
  const int64_t stem = o.base_channels;
  auto add_stem = [&](const std::string& suffix, int64_t in, int64_t out, int64_t kernel,
                      int64_t stride) {
    stem_convs_.push_back(
        register_module("conv1" + suffix, conv(in, out, kernel, stride, (kernel - 1) / 2)));
    stem_norms_.push_back(make_norm(o, out));
    register_module("bn1" + suffix, stem_norms_.back().ptr());
  };
  if (o.deep_stem) {
    add_stem("_1", 3, stem / 2, 3, 2);
    add_stem("_2", stem / 2, stem / 2, 3, 1);
    add_stem("_3", stem / 2, stem, 3, 1);
  } else {
    add_stem("", 3, stem, 7, 2);
  }
  int64_t in_channels = stem;
  torch::nn::Sequential* layers[4] = {&layer1, &layer2, &layer3, &layer4};
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t width = stem << stage;
    const int64_t out = layout.bottleneck ? width * 4 : width;
    torch::nn::Sequential layer;
    for (int64_t b = 0; b < layout.blocks[stage]; ++b) {
      const int64_t stride = (b == 0 && stage > 0) ? 2 : 1;
      // The first block of a stage projects the shortcut whenever its shape changes.
      const bool project = b == 0 && (stride != 1 || in_channels != out);
      if (layout.bottleneck) {
        layer->push_back(Bottleneck(in_channels, width, stride, project, o));
      } else {
        layer->push_back(BasicBlock(in_channels, width, stride, project, o));
      }
      in_channels = out;
    }
    *layers[stage] = register_module("layer" + std::to_string(stage + 1), layer);
  }
  freeze();
}

void ResNetImpl::freeze() {
  auto freeze_module = [](torch::nn::Module& m) {
    for (auto& p : m.parameters()) p.requires_grad_(false);
  };
  if (options_.frozen_stages >= 0) {
    for (auto& c : stem_convs_) freeze_module(*c);
    for (auto& n : stem_norms_) freeze_module(*n.ptr());
  }
  torch::nn::Sequential layers[4] = {layer1, layer2, layer3, layer4};
  for (int64_t stage = 0; stage < std::min<int64_t>(options_.frozen_stages, 4); ++stage)
    freeze_module(*layers[stage]);
}

std::vector<at::Tensor> ResNetImpl::forward(const at::Tensor& x) {
  at::Tensor y = x;
  for (std::size_t k = 0; k < stem_convs_.size(); ++k) {
    y = torch::relu(stem_norms_[k].forward(stem_convs_[k](y)));
  }
  y = F::max_pool2d(y, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  std::vector<at::Tensor> out;
  for (auto* layer : {&layer1, &layer2, &layer3, &layer4}) {
    y = (*layer)->forward(y);
    out.push_back(y);
  }
  return out;
}

}  // namespace mrcnn::modeling
