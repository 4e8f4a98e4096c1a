// The YAML config system: _BASE_ merging, -o overrides, type checks and error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "mrcnn/common/error.h"
#include "mrcnn/config/loader.h"
#include "support/error_of.h"

namespace mrcnn::config {
namespace {

namespace fs = std::filesystem;

// A scratch folder of YAML files, removed after the test.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("mrcnn_config_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = root_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  template <class F>
  static std::string error_of(F&& f) {
    return testing::error_of(std::forward<F>(f));
  }

  fs::path root_;
};

TEST_F(ConfigFiles, DefaultsFollowTheRecipe) {
  const Config c = load_config(write("empty.yml", ""));
  EXPECT_EQ(c.epoch, 12);
  EXPECT_DOUBLE_EQ(c.learning_rate.base_lr, 0.01);
  EXPECT_EQ(c.rpn_head.train_proposal.pre_nms_top_n, 2000);
  EXPECT_EQ(c.rpn_head.test_proposal.pre_nms_top_n, 1000);
  EXPECT_EQ(c.mask_head.roi_extractor.resolution, 14);
  EXPECT_EQ(c.bbox_head.roi_extractor.resolution, 7);
  EXPECT_FALSE(c.use_gpu);
  EXPECT_EQ(c.config_name, "empty");
  ASSERT_EQ(c.learning_rate.schedulers.size(), 2u);
  EXPECT_EQ(std::get<PiecewiseDecay>(c.learning_rate.schedulers[0]).milestones,
            (std::vector<int64_t>{8, 11}));
}

TEST_F(ConfigFiles, BasesMergeInOrderThenTheFileItself) {
  write("b.yml", "epoch: 3\nLearningRate:\n  base_lr: 0.02\nsave_dir: from_b\n");
  write("c.yml", "epoch: 5\nLearningRate:\n  schedulers:\n  - !LinearWarmup\n    steps: 10\n");
  const std::string a = write("a.yml", "_BASE_: [b.yml, c.yml]\nsave_dir: from_a\n");
  const Config c = load_config(a);
  EXPECT_EQ(c.epoch, 5);                             // c overrides b
  EXPECT_EQ(c.save_dir, "from_a");                   // the file overrides its bases
  EXPECT_DOUBLE_EQ(c.learning_rate.base_lr, 0.02);   // maps merge key by key
  ASSERT_EQ(c.learning_rate.schedulers.size(), 1u);  // lists replace
  EXPECT_EQ(std::get<LinearWarmup>(c.learning_rate.schedulers[0]).steps, 10);
}

TEST_F(ConfigFiles, BaseAsStringRelativeToTheIncludingFile) {
  write("common/runtime.yml", "log_iter: 7\n");
  write("models/_base_/model.yml", "_BASE_: ../../common/runtime.yml\nnum_classes: 3\n");
  const Config c = load_config(write("models/top.yml", "_BASE_: '_base_/model.yml'\n"));
  EXPECT_EQ(c.log_iter, 7);
  EXPECT_EQ(c.num_classes, 3);
  EXPECT_EQ(c.config_name, "top");
}

TEST_F(ConfigFiles, IncludeCycleIsReported) {
  write("x.yml", "_BASE_: y.yml\n");
  write("y.yml", "_BASE_: [x.yml]\n");
  const std::string message = error_of([&] { load_config((root_ / "x.yml").string()); });
  EXPECT_NE(message.find("cycle"), std::string::npos) << message;
  EXPECT_NE(message.find("x.yml -> y.yml -> x.yml"), std::string::npos) << message;
}

TEST_F(ConfigFiles, OverridesUseTheTypeOfTheKey) {
  const Config c = load_config(
      write("t.yml", "epoch: 4\n"),
      {"RPNHead.train_proposal.pre_nms_top_n=500", "use_gpu=True", "LearningRate.base_lr=1",
       "weights=out/model_final", "RPNHead.anchor_generator.aspect_ratios=[1.0, 3]"});
  EXPECT_EQ(c.rpn_head.train_proposal.pre_nms_top_n, 500);
  EXPECT_EQ(c.rpn_head.train_proposal.post_nms_top_n, 1000);  // siblings untouched
  EXPECT_TRUE(c.use_gpu);
  EXPECT_DOUBLE_EQ(c.learning_rate.base_lr, 1.0);
  EXPECT_EQ(c.weights, "out/model_final");
  EXPECT_EQ(c.rpn_head.anchor_generator.aspect_ratios, (std::vector<double>{1.0, 3.0}));
  EXPECT_EQ(c.epoch, 4);
}

TEST_F(ConfigFiles, ListInAFileReplacesTheDefaultList) {
  const Config c = load_config(write("l.yml",
                                     "EvalReader:\n"
                                     "  sample_transforms:\n"
                                     "  - Decode: {}\n"
                                     "  - Resize: {target_size: [512, 853], interp: 1}\n"));
  ASSERT_EQ(c.eval_reader.sample_transforms.size(), 2u);
  const auto& resize = std::get<ResizeOp>(c.eval_reader.sample_transforms[1]);
  EXPECT_EQ(resize.target_size, (std::vector<int64_t>{512, 853}));
  EXPECT_EQ(resize.interp, 1);
  EXPECT_TRUE(resize.keep_ratio);  // unspecified keys of an entry take their defaults
  EXPECT_EQ(c.eval_reader.batch_transforms.size(), 1u);  // untouched lists stay
}

TEST_F(ConfigFiles, WrongTypeInAnOverrideNamesKeyAndValue) {
  const std::string message = error_of([&] { load_config(write("t.yml", ""), {"epoch=abc"}); });
  EXPECT_NE(message.find("-o epoch=abc"), std::string::npos) << message;
  EXPECT_NE(message.find("'epoch'"), std::string::npos) << message;
  EXPECT_NE(message.find("expected an integer"), std::string::npos) << message;

  const std::string fractional =
      error_of([&] { load_config(write("u.yml", ""), {"TrainReader.batch_size=1.5"}); });
  EXPECT_NE(fractional.find("'TrainReader.batch_size'"), std::string::npos) << fractional;
}

TEST_F(ConfigFiles, WrongTypeInAFileNamesFileAndLine) {
  const std::string path = write("w.yml", "epoch: 2\nuse_gpu: maybe\n");
  const std::string message = error_of([&] { load_config(path); });
  EXPECT_NE(message.find(path + ":2:"), std::string::npos) << message;
  EXPECT_NE(message.find("expected true or false, got 'maybe'"), std::string::npos) << message;

  const std::string list_path = write("v.yml", "ResNet:\n  return_idx: 3\n");
  const std::string list_message = error_of([&] { load_config(list_path); });
  EXPECT_NE(list_message.find(list_path + ":2:"), std::string::npos) << list_message;
  EXPECT_NE(list_message.find("expected a list"), std::string::npos) << list_message;
}

TEST_F(ConfigFiles, UnknownKeySuggestsTheClosestOne) {
  const std::string path = write("k.yml", "epoch: 2\nLearningRate:\n  base_lrr: 0.1\n");
  const std::string message = error_of([&] { load_config(path); });
  EXPECT_NE(message.find(path + ":3:3"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'LearningRate.base_lrr' (did you mean 'base_lr'?)"),
            std::string::npos)
      << message;

  const std::string top = error_of([&] { load_config(path, {"learningrate.base_lr=0.1"}); });
  EXPECT_NE(top.find("unknown key"), std::string::npos) << top;

  const std::string nested =
      error_of([&] { load_config(write("ok.yml", ""), {"TrainReader.batchsize=2"}); });
  EXPECT_NE(nested.find("did you mean 'batch_size'?"), std::string::npos) << nested;

  const std::string far = error_of([&] { load_config(write("f.yml", "zzzzzz: 1\n")); });
  EXPECT_NE(far.find("valid keys here:"), std::string::npos) << far;
}

TEST_F(ConfigFiles, UnknownTransformSuggestsTheClosestOne) {
  const std::string path =
      write("tr.yml", "TrainReader:\n  sample_transforms:\n  - RandomFlp: {}\n");
  const std::string message = error_of([&] { load_config(path); });
  EXPECT_NE(message.find("did you mean 'RandomFlip'?"), std::string::npos) << message;
  EXPECT_NE(message.find(path + ":3:"), std::string::npos) << message;
}

TEST_F(ConfigFiles, MissingFilesAreNamed) {
  const std::string missing = (root_ / "nope.yml").string();
  const std::string message = error_of([&] { load_config(missing); });
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;

  const std::string parent = write("p.yml", "epoch: 1\n_BASE_: [gone.yml]\n");
  const std::string base_message = error_of([&] { load_config(parent); });
  EXPECT_NE(base_message.find("gone.yml"), std::string::npos) << base_message;
  EXPECT_NE(base_message.find("included from " + parent + ":2"), std::string::npos) << base_message;
}

TEST_F(ConfigFiles, YamlSyntaxErrorsGiveFileAndLine) {
  const std::string path =
      write("s.yml", "epoch: 2\nLearningRate:\n  base_lr: [0.1\nlog_iter: 3\n");
  const std::string message = error_of([&] { load_config(path); });
  EXPECT_NE(message.find(path + ":"), std::string::npos) << message;
  EXPECT_NE(message.find("YAML syntax error"), std::string::npos) << message;

  const std::string tabs = write("tab.yml", "a: 1\n b: 2\n");
  const std::string tab_message = error_of([&] { load_config(tabs); });
  EXPECT_NE(tab_message.find(tabs + ":2:"), std::string::npos) << tab_message;
}

TEST_F(ConfigFiles, DatasetClassComesFromTheTag) {
  const Config c = load_config(write("d.yml",
                                     "TestDataset:\n"
                                     "  !COCODataSet\n"
                                     "    anno_path: a.json\n"
                                     "TrainDataset:\n"
                                     "  dataset_dir: dataset/shapes\n"));
  EXPECT_EQ(c.test_dataset.type, "COCODataSet");
  EXPECT_EQ(c.test_dataset.anno_path, "a.json");
  EXPECT_EQ(c.train_dataset.type, "COCODataSet");
  EXPECT_EQ(c.train_dataset.image_dir, "train2017");  // untagged maps merge
  EXPECT_EQ(c.train_dataset.dataset_dir, "dataset/shapes");

  const std::string bad =
      error_of([&] { load_config(write("e.yml", "EvalDataset: !CocoDataset {}\n")); });
  EXPECT_NE(bad.find("did you mean 'COCODataSet'?"), std::string::npos) << bad;
}

TEST_F(ConfigFiles, ADatasetOrNmsClassMayBeNamedByANameKey) {
  // PaddleDetection 2.6 on writes `name: COCODataSet` where 2.5 wrote the `!COCODataSet` tag.
  const Config c = load_config(write("n.yml",
                                     "TestDataset:\n"
                                     "  name: ImageFolder\n"
                                     "  anno_path: a.json\n"
                                     "TrainDataset: {name: COCODataSet, dataset_dir: d}\n"
                                     "BBoxPostProcess:\n"
                                     "  nms: {name: MultiClassNMS, keep_top_k: 7}\n"));
  EXPECT_EQ(c.test_dataset.type, "ImageFolder");
  EXPECT_EQ(c.train_dataset.dataset_dir, "d");
  EXPECT_EQ(c.bbox_post_process.nms.keep_top_k, 7);
  const std::string both = error_of(
      [&] { load_config(write("b.yml", "TestDataset: !COCODataSet {name: ImageFolder}\n")); });
  EXPECT_NE(both.find("'TestDataset.name': names 'ImageFolder' but the tag says '!COCODataSet'"),
            std::string::npos)
      << both;
  const std::string nms =
      error_of([&] { load_config(write("m.yml", "BBoxPostProcess: {nms: {name: MatrixNMS}}\n")); });
  EXPECT_NE(nms.find("'BBoxPostProcess.nms.name'"), std::string::npos) << nms;
}

TEST_F(ConfigFiles, ExportSettingsAreAcceptedAsTheyDescribeOurPredictionsOnly) {
  const Config c = load_config(write("e.yml",
                                     "export: {post_process: True, nms: True, "
                                     "benchmark: False, fuse_conv_bn: False}\n"));
  EXPECT_TRUE(c.export_settings.post_process);
  for (const std::string key :
       {"post_process=false", "nms=false", "benchmark=true", "fuse_conv_bn=true"}) {
    const std::string message =
        error_of([&] { load_config(write("f.yml", ""), {"export." + key}); });
    EXPECT_NE(message.find("'export." + key.substr(0, key.find('=')) + "'"), std::string::npos)
        << message;
  }
}

TEST_F(ConfigFiles, PaddleDetectionSpellingsOfAnchorsPaddingAndResNetKeys) {
  const Config c = load_config(write("a.yml",
                                     "RPNHead:\n"
                                     "  anchor_generator: {anchor_sizes: [32, 64]}\n"
                                     "TrainReader: {batch_transforms: [PadBatch: "
                                     "{pad_to_stride: -1}]}\n"
                                     "ResNet: {variant: d, lr_mult_list: [0.05, 0.05, 0.1, "
                                     "0.15], groups: 1, base_width: 64, dcn_v2_stages: [-1], "
                                     "std_senet: false, norm_decay: 0.}\n"));
  // A flat list is one entry all levels share.
  EXPECT_EQ(c.rpn_head.anchor_generator.anchor_sizes, (std::vector<std::vector<double>>{{32, 64}}));
  EXPECT_EQ(c.resnet.variant, "d");
  EXPECT_EQ(c.resnet.lr_mult_list, (std::vector<double>{0.05, 0.05, 0.1, 0.15}));
  const std::vector<std::pair<std::string, std::string>> unsupported = {
      {"ResNet.groups=64", "ResNeXt"},
      {"ResNet.base_width=4", "ResNeXt"},
      {"ResNet.dcn_v2_stages=[1,2,3]", "deformable"},
      {"ResNet.std_senet=true", "SENet"},
      {"ResNet.lr_mult_list=[1,1]", "4 factors"},
      {"BBoxHead.with_pool=true", "C4 model"},
  };
  for (const auto& [override_, words] : unsupported) {
    const std::string message = error_of([&] { load_config(write("u.yml", ""), {override_}); });
    EXPECT_NE(message.find("'" + override_.substr(0, override_.find('=')) + "'"), std::string::npos)
        << message;
    EXPECT_NE(message.find(words), std::string::npos) << message;
  }
}

TEST_F(ConfigFiles, ValidationNamesKeyAndSuggests) {
  const std::string message =
      error_of([&] { load_config(write("n.yml", ""), {"ResNet.norm_type=bx"}); });
  EXPECT_NE(
      message.find("'ResNet.norm_type': 'bx' is not one of bn, sync_bn, gn (did you mean 'bn'?)"),
      std::string::npos)
      << message;
  const std::string two = error_of([&] {
    load_config(write("m.yml", ""), {"use_gpu=true", "use_npu=true"});
  });
  EXPECT_NE(two.find("at most one of use_gpu"), std::string::npos) << two;
}

TEST_F(ConfigFiles, MalformedOverrides) {
  const std::string message = error_of([&] { load_config(write("o.yml", ""), {"epoch"}); });
  EXPECT_NE(message.find("expected key=value"), std::string::npos) << message;
  const std::string empty =
      error_of([&] { load_config(write("q.yml", ""), {"LearningRate..base_lr=1"}); });
  EXPECT_NE(empty.find("empty component"), std::string::npos) << empty;
}

TEST_F(ConfigFiles, PrintedConfigReadsBackToTheSameConfig) {
  const Config original =
      load_config(write("r.yml", "epoch: 3\nTestDataset: !COCODataSet {anno_path: x.json}\n"),
                  {"LearningRate.base_lr=0.000123",
                   "RPNHead.anchor_generator.anchor_sizes=[[16, 24], [32, 48], [64, 96], [128, "
                   "192], [256, 384]]",
                   "pretrain_weights="});
  const std::string printed = to_yaml(original);
  EXPECT_NE(printed.find("!PiecewiseDecay"), std::string::npos) << printed;
  EXPECT_NE(printed.find("- Decode: {}"), std::string::npos) << printed;

  Config reread;
  apply_config_file(reread, write("printed.yml", printed));
  EXPECT_EQ(to_yaml(reread), printed);
  EXPECT_DOUBLE_EQ(reread.learning_rate.base_lr, 0.000123);
  EXPECT_EQ(reread.test_dataset.type, "COCODataSet");
}

TEST_F(ConfigFiles, AnAliasedSectionReadsLikeItsAnchor) {
  // Decoding a section must leave its YAML untouched, or an alias of it would read differently.
  const Config c = load_config(write("alias.yml",
                                     "EvalReader: &reader\n"
                                     "  sample_transforms:\n"
                                     "  - Decode: {}\n"
                                     "  - Resize: {target_size: [128, 256], interp: 1}\n"
                                     "  batch_size: 2\n"
                                     "TestReader: *reader\n"));
  ASSERT_EQ(c.test_reader.sample_transforms.size(), 2u);
  EXPECT_EQ(std::get<ResizeOp>(c.test_reader.sample_transforms[1]).target_size,
            (std::vector<int64_t>{128, 256}));
  EXPECT_EQ(c.test_reader.batch_size, 2);
}

TEST_F(ConfigFiles, ADirectoryIsNoConfigFile) {
  const std::string folder = (root_ / "configs").string();
  fs::create_directories(folder);
  EXPECT_NE(error_of([&] { load_config(folder); }).find("is a directory"), std::string::npos);
  const std::string child = write("child.yml", "_BASE_: [configs]\n");
  const std::string message = error_of([&] { load_config(child); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
  EXPECT_NE(message.find("included from " + child + ":1"), std::string::npos) << message;
}

TEST_F(ConfigFiles, AKeyGivenTwiceIsAnError) {
  // PyYAML keeps the last of two values and yaml-cpp the first: neither is what was meant.
  const std::string top = write("top.yml", "epoch: 3\nlog_iter: 5\nepoch: 4\n");
  std::string message = error_of([&] { load_config(top); });
  EXPECT_NE(message.find(top + ":3:"), std::string::npos) << message;
  EXPECT_NE(message.find("duplicate key 'epoch' (first at line 1)"), std::string::npos) << message;
  const std::string nested =
      write("nested.yml", "RPNHead:\n  train_proposal: {min_size: 1, min_size: 2}\n");
  message = error_of([&] { load_config(nested); });
  EXPECT_NE(message.find("duplicate key 'RPNHead.train_proposal.min_size'"), std::string::npos)
      << message;
}

TEST_F(ConfigFiles, CountsThatWouldOverflowAreRejected) {
  // epoch * batches per epoch must fit the iteration counter.
  const std::string message =
      error_of([&] { load_config(write("e.yml", ""), {"epoch=9223372036854775807"}); });
  EXPECT_NE(message.find("'epoch': must be at most 1000000000"), std::string::npos) << message;
}

TEST_F(ConfigFiles, AliasesCannotMultiplyAConfigWithoutBound) {
  // A 40 KB file whose aliases name a 10000-item list 2000 times: 2e7 values.
  std::string text =
      "TrainReader:\n  sample_transforms:\n  - RandomResize:\n      target_size: [&s [";
  for (int i = 0; i < 10000; ++i) text += i ? ", 1" : "1";
  text += "]";
  for (int i = 1; i < 2000; ++i) text += ", *s";
  text += "]\n";
  const std::string path = write("laughs.yml", text);
  const std::string message = error_of([&] { load_config(path); });
  EXPECT_NE(message.find(path + ":"), std::string::npos) << message;
  EXPECT_NE(message.find("more than 1000000 list items"), std::string::npos) << message;
}

TEST_F(ConfigFiles, SizeRoundingIsNearestOrFloor) {
  const Config c =
      load_config(write("r.yml",
                        "EvalReader:\n  sample_transforms:\n  - Decode: {}\n"
                        "  - Resize: {target_size: [800, 1333], size_rounding: floor}\n"));
  EXPECT_EQ(std::get<ResizeOp>(c.eval_reader.sample_transforms[1]).size_rounding, "floor");
  EXPECT_EQ(ResizeOp{}.size_rounding, "nearest");  // PaddleDetection's
  EXPECT_EQ(RandomResizeOp{}.size_rounding, "nearest");
  const std::string message = error_of([&] {
    load_config(write("bad.yml",
                      "EvalReader:\n  sample_transforms:\n  - Decode: {}\n"
                      "  - Resize: {size_rounding: flor}\n"));
  });
  EXPECT_NE(message.find("did you mean 'floor'"), std::string::npos) << message;
}

}  // namespace
}  // namespace mrcnn::config
