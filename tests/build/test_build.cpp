// The build layer: one default per quantity (an empty config builds the default options),
// readers and devices as the config says, and the keys it rejects.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mrcnn/build/device.h"
#include "mrcnn/build/model.h"
#include "mrcnn/build/readers.h"
#include "mrcnn/build/training.h"
#include "mrcnn/common/error.h"
#include "mrcnn/config/loader.h"

namespace mrcnn::build {
namespace {

namespace fs = std::filesystem;

config::Config from_yaml(const std::string& text) {
  const fs::path path =
      fs::temp_directory_path() / ("mrcnn_build_test_" + std::to_string(getpid()) + ".yml");
  std::ofstream(path) << text;
  const config::Config c = config::load_config(path.string());
  fs::remove(path);
  return c;
}

std::string error_of(const std::string& text) {
  try {
    from_yaml(text);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected the config to be refused:\n" << text;
  return {};
}

TEST(ModelOptions, AnEmptyConfigBuildsTheDefaultOptions) {
  // The options' own defaults and the config's are the same recipe: one value each.
  EXPECT_EQ(model_options(config::Config{}), modeling::MaskRCNNOptions{});
  EXPECT_EQ(transform_options(config::Config{}.eval_reader), data::TransformOptions{});
}

TEST(ModelOptions, KeysReachTheModel) {
  const config::Config c = from_yaml(R"(
ResNet: {variant: a, norm_type: gn, freeze_norm: true, gn_groups: 16}
RPNHead:
  test_proposal: {min_size: 0.5, topk_after_collect: true, post_nms_top_n: 300}
MaskPostProcess: {binary_thresh: 0.4}
)");
  const modeling::MaskRCNNOptions o = model_options(c);
  EXPECT_TRUE(o.resnet.stride_in_1x1);
  EXPECT_EQ(o.resnet.norm, modeling::NormKind::kGroupNorm);
  EXPECT_TRUE(o.resnet.freeze_norm);
  EXPECT_DOUBLE_EQ(o.test_proposals.min_size, 0.5);
  EXPECT_TRUE(o.test_proposals.topk_after_collect);
  EXPECT_EQ(o.test_proposals.post_nms_top_n, 300);
  EXPECT_DOUBLE_EQ(o.postprocess.mask_threshold, 0.4);
  // Variant a strides on the first 1x1 conv of a stage's first bottleneck.
  modeling::ResNet resnet(o.resnet);
  const auto parameters = resnet->named_modules();
  const auto* conv1 = parameters["layer2.0.conv1"]->as<torch::nn::Conv2dImpl>();
  const auto* conv2 = parameters["layer2.0.conv2"]->as<torch::nn::Conv2dImpl>();
  EXPECT_EQ((*conv1->options.stride())[0], 2);
  EXPECT_EQ((*conv2->options.stride())[0], 1);
  // Frozen GroupNorm: its affine parameters are not trained.
  for (const auto& p : resnet->named_parameters()) {
    if (p.key().find("bn") != std::string::npos) {
      EXPECT_FALSE(p.value().requires_grad()) << p.key();
    }
  }
}

TEST(Readers, InterpolationSizesAndPaddingAsWritten) {
  const config::Config c = from_yaml(R"(
TrainReader:
  sample_transforms:
  - Decode: {}
  - RandomResize: {target_size: [[320], [400, 600]], interp: 3, keep_ratio: false}
  - RandomFlip: {prob: 0.25}
  - Permute: {}
  batch_transforms: []
EvalReader:
  sample_transforms:
  - Decode: {}
  - Resize: {target_size: [1333, 800], interp: 0, keep_ratio: true, size_rounding: floor}
  - NormalizeImage: {is_scale: false, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375]}
  - Permute: {}
  batch_transforms:
  - PadBatch: {pad_to_stride: 64}
)");
  const data::TransformOptions train = transform_options(c.train_reader);
  EXPECT_EQ(train.interp, data::Interpolation::kArea);
  EXPECT_FALSE(train.keep_ratio);
  EXPECT_EQ(train.target_sizes, (std::vector<std::array<int64_t, 2>>{{320, 320}, {400, 600}}));
  EXPECT_DOUBLE_EQ(train.flip_probability, 0.25);
  EXPECT_FALSE(train.normalize);      // no NormalizeImage
  EXPECT_EQ(train.pad_to_stride, 0);  // no PadBatch
  const data::TransformOptions eval = transform_options(c.eval_reader);
  EXPECT_EQ(eval.interp, data::Interpolation::kNearest);
  EXPECT_EQ(eval.size_rounding, data::SizeRounding::kFloor);
  EXPECT_EQ(train.size_rounding, data::SizeRounding::kNearest);  // PaddleDetection's default
  EXPECT_NEAR(eval.mean[0], 0.485, 1e-12);                       // 0..255 units scaled to 0..1
  EXPECT_NEAR(eval.std[2], 0.225, 1e-12);
  EXPECT_EQ(eval.pad_to_stride, 64);
}

TEST(Readers, RefusedReaderAndModelKeysSayWhy) {
  EXPECT_NE(error_of("EvalReader: {sample_transforms: [{Decode: {}}, {Resize: {target_size: [800, "
                     "1333], interp: 4}}, {Permute: {}}]}")
                .find("Lanczos"),
            std::string::npos);
  EXPECT_NE(error_of("EvalReader: {sample_transforms: [{Decode: {}}, {RandomFlip: {prob: 0.5}}, "
                     "{Permute: {}}]}")
                .find("RandomFlip makes EvalReader random"),
            std::string::npos);
  EXPECT_NE(error_of("TrainReader: {collate_batch: true}").find("collate_batch"),
            std::string::npos);
  EXPECT_NE(error_of("print_flops: true").find("FLOP counting"), std::string::npos);
  EXPECT_NE(
      error_of("RPNHead: {anchor_generator: {strides: [8, 16, 32, 64, 128]}}").find("strides"),
      std::string::npos);
  EXPECT_NE(error_of("TrainDataset: {data_fields: [image, gt_bbox, gt_class]}").find("gt_poly"),
            std::string::npos);
  EXPECT_NE(error_of("TrainDataset: !ImageFolder {}").find("TrainDataset.type"), std::string::npos);
}

TEST(Training, CrowdFlagsAndEmptyImagesFromTheDatasetKeys) {
  const config::Config c = from_yaml(R"(
seed: 5
TrainDataset: {data_fields: [image, gt_bbox, gt_class, gt_poly], allow_empty: true, empty_ratio: 0.3}
)");
  const coco::TrainingViewOptions view = training_view_options(c);
  EXPECT_FALSE(view.keep_crowd);
  EXPECT_TRUE(view.keep_empty_images);
  EXPECT_DOUBLE_EQ(view.empty_ratio, 0.3);
  EXPECT_EQ(view.seed, 5u);
  EXPECT_TRUE(training_view_options(config::Config{}).keep_crowd);
}

TEST(RequestedDevice, ExplicitChoiceWinsThenConfigDeviceThenFlags) {
  config::Config c;
  EXPECT_EQ(requested_device(c, ""), "cpu");
  c.use_gpu = true;
  EXPECT_EQ(requested_device(c, ""), "cuda");
  EXPECT_EQ(requested_device(c, "cpu"), "cpu");
  c.device = "cuda:1";
  EXPECT_EQ(requested_device(c, ""), "cuda:1");
  c = config::Config{};
  c.use_npu = true;
  EXPECT_EQ(requested_device(c, ""), "npu");
  c = config::Config{};
  c.use_mlu = true;
  EXPECT_EQ(requested_device(c, ""), "mlu");
  c = config::Config{};
  c.use_xpu = true;
  EXPECT_EQ(requested_device(c, ""), "xpu");
}

}  // namespace
}  // namespace mrcnn::build
