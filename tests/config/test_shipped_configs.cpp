// The configs we ship load cleanly and carry the recipe of SPEC.md.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "mrcnn/config/loader.h"

namespace mrcnn::config {
namespace {

namespace fs = std::filesystem;

fs::path source_dir() {
  const char* dir = std::getenv("MRCNN_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

TEST(ShippedConfigs, MaskRcnn1xIsTheRecipe) {
  const Config c =
      load_config((source_dir() / "configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml").string());
  EXPECT_EQ(c.config_name, "mask_rcnn_r50_fpn_1x_coco");
  EXPECT_EQ(c.num_classes, 80);
  EXPECT_EQ(c.epoch, 12);
  EXPECT_EQ(c.snapshot_epoch, 1);
  EXPECT_EQ(c.save_dir, "output");
  EXPECT_EQ(c.weights, "output/mask_rcnn_r50_fpn_1x_coco/model_final");
  EXPECT_DOUBLE_EQ(c.learning_rate.base_lr, 0.01);
  ASSERT_EQ(c.learning_rate.schedulers.size(), 2u);
  const auto& decay = std::get<PiecewiseDecay>(c.learning_rate.schedulers[0]);
  EXPECT_DOUBLE_EQ(decay.gamma, 0.1);
  EXPECT_EQ(decay.milestones, (std::vector<int64_t>{8, 11}));
  const auto& warmup = std::get<LinearWarmup>(c.learning_rate.schedulers[1]);
  EXPECT_DOUBLE_EQ(warmup.start_factor, 0.001);
  EXPECT_EQ(warmup.steps, 1000);
  EXPECT_DOUBLE_EQ(c.optimizer_builder.optimizer.momentum, 0.9);
  EXPECT_DOUBLE_EQ(c.optimizer_builder.regularizer.factor, 1e-4);

  EXPECT_EQ(c.train_dataset.dataset_dir, "dataset/coco");
  EXPECT_EQ(c.train_dataset.image_dir, "train2017");
  EXPECT_EQ(c.train_dataset.anno_path, "annotations/instances_train2017.json");
  EXPECT_EQ(c.eval_dataset.image_dir, "val2017");
  EXPECT_EQ(c.eval_dataset.anno_path, "annotations/instances_val2017.json");

  ASSERT_EQ(c.train_reader.sample_transforms.size(), 5u);
  const auto& resize = std::get<RandomResizeOp>(c.train_reader.sample_transforms[1]);
  ASSERT_EQ(resize.target_size.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(resize.target_size[i], (std::vector<int64_t>{640 + 32 * int64_t(i), 1333}));
  }
  EXPECT_DOUBLE_EQ(std::get<RandomFlipOp>(c.train_reader.sample_transforms[2]).prob, 0.5);
  EXPECT_EQ(std::get<ResizeOp>(c.eval_reader.sample_transforms[1]).target_size,
            (std::vector<int64_t>{800, 1333}));
  EXPECT_EQ(std::get<PadBatchOp>(c.train_reader.batch_transforms[0]).pad_to_stride, 32);
  EXPECT_EQ(c.train_reader.batch_size, 1);
  EXPECT_TRUE(c.train_reader.shuffle);

  EXPECT_EQ(c.resnet.depth, 50);
  EXPECT_EQ(c.resnet.freeze_at, 0);
  EXPECT_TRUE(c.resnet.freeze_norm);
  EXPECT_EQ(c.fpn.out_channel, 256);
  EXPECT_EQ(c.rpn_head.anchor_generator.anchor_sizes.size(), 5u);
  EXPECT_DOUBLE_EQ(c.rpn_head.rpn_target_assign.positive_overlap, 0.7);
  EXPECT_DOUBLE_EQ(c.rpn_head.rpn_target_assign.negative_overlap, 0.3);
  EXPECT_EQ(c.rpn_head.rpn_target_assign.batch_size_per_im, 256);
  EXPECT_EQ(c.rpn_head.train_proposal.pre_nms_top_n, 2000);
  EXPECT_EQ(c.rpn_head.train_proposal.post_nms_top_n, 1000);
  EXPECT_EQ(c.rpn_head.test_proposal.pre_nms_top_n, 1000);
  EXPECT_EQ(c.bbox_assigner.batch_size_per_im, 512);
  EXPECT_DOUBLE_EQ(c.bbox_assigner.fg_fraction, 0.25);
  EXPECT_EQ(c.bbox_head.roi_extractor.resolution, 7);
  EXPECT_EQ(c.bbox_head.roi_extractor.sampling_ratio, 0);
  EXPECT_TRUE(c.bbox_head.roi_extractor.aligned);
  EXPECT_EQ(c.mask_head.roi_extractor.resolution, 14);
  EXPECT_EQ(c.two_fc_head.out_channel, 1024);
  EXPECT_EQ(c.bbox_post_process.nms.keep_top_k, 100);
  EXPECT_DOUBLE_EQ(c.bbox_post_process.nms.score_threshold, 0.05);
  EXPECT_DOUBLE_EQ(c.bbox_post_process.nms.nms_threshold, 0.5);
  EXPECT_EQ(c.mask_feat.num_convs, 4);
  EXPECT_EQ(c.mask_assigner.mask_resolution, 28);
  EXPECT_DOUBLE_EQ(c.mask_post_process.binary_thresh, 0.5);
}

TEST(ShippedConfigs, EveryShippedConfigLoads) {
  int loaded = 0;
  for (const auto& entry : fs::recursive_directory_iterator(source_dir() / "configs")) {
    if (entry.path().extension() != ".yml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(load_config(entry.path().string()));
    ++loaded;
  }
  EXPECT_GE(loaded, 7);
}

}  // namespace
}  // namespace mrcnn::config
