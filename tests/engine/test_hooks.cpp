// The trainer's hook points on a tiny generated set: when each is called, what the standard
// checkpoint and evaluation hooks write, and that best_model follows the best score.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mrcnn/coco/training_view.h"
#include "mrcnn/data/shapes.h"
#include "mrcnn/engine/hooks.h"
#include "support/tiny_model.h"

namespace mrcnn::engine {
namespace {

namespace fs = std::filesystem;

// Records every call, in order.
struct Recorder : TrainerHook {
  std::vector<std::string>* events;
  explicit Recorder(std::vector<std::string>* log) : events(log) {}
  void after_step(Trainer&, const StepRecord& s) override {
    events->push_back("step " + std::to_string(s.iteration) + (s.last ? " last" : "") +
                      (s.losses.size() == 6 ? "" : " (no losses)"));
  }
  void at_snapshot(Trainer&, const Snapshot& s) override {
    events->push_back("snapshot " + s.name + (s.final ? " final" : ""));
  }
  void after_train(Trainer&) override { events->push_back("end"); }
};

class HooksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("mrcnn_hooks_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    data::make_shapes({.out_dir = (dir_ / "shapes").string(),
                       .train_images = 12,
                       .val_images = 0,
                       .seed = 2,
                       .width = 64,
                       .height = 64});
    dataset_ = new coco::Dataset(
        coco::load_dataset((dir_ / "shapes" / "annotations" / "instances_train.json").string()));
  }
  static void TearDownTestSuite() {
    delete dataset_;
    fs::remove_all(dir_);
  }

  // 2 epochs of 2 batches of 2 images, snapshots every epoch.
  std::vector<std::string> train(std::vector<std::unique_ptr<TrainerHook>> hooks,
                                 const std::string& out) {
    auto records = coco::training_view(*dataset_, {}, nullptr);
    records.resize(4);
    data::TransformOptions transform;
    transform.target_sizes = {{64, 64}};
    data::TrainLoader loader(*dataset_, records, {.dir = (dir_ / "shapes" / "train").string()},
                             structures::LabelMap(structures::LabelMap::Mode::kContiguous, 3,
                                                  dataset_->categories, dataset_->path),
                             transform, {.batch_size = 2, .workers = 0});
    at::manual_seed(0);
    Trainer trainer(modeling::MaskRCNN(testing::tiny_model_options(3)), loader,
                    {.output_dir = (dir_ / out).string(),
                     .epochs = 2,
                     .snapshot_epoch = 1,
                     .schedule = {.base_lr = 0.01, .warmup_iterations = 0}});
    std::vector<std::string> events;
    trainer.add_hook(std::make_unique<Recorder>(&events));
    for (auto& hook : hooks) trainer.add_hook(std::move(hook));
    EXPECT_EQ(trainer.run().iterations, 4);
    return events;
  }

  static fs::path dir_;
  static coco::Dataset* dataset_;
};
fs::path HooksTest::dir_;
coco::Dataset* HooksTest::dataset_ = nullptr;

TEST_F(HooksTest, PointsComeInTrainingOrder) {
  std::vector<std::unique_ptr<TrainerHook>> hooks;
  hooks.push_back(std::make_unique<MetricsHook>(2));
  hooks.push_back(std::make_unique<CheckpointHook>(3));
  const auto events = train(std::move(hooks), "order");
  EXPECT_EQ(events, (std::vector<std::string>{"step 1", "step 2", "snapshot 0", "step 3",
                                              "step 4 last", "snapshot model_final final", "end"}));
  const fs::path out = dir_ / "order";
  for (const char* name : {"0", "last", "model_final"}) {
    EXPECT_TRUE(fs::exists(out / (std::string(name) + ".safetensors"))) << name;
    EXPECT_TRUE(fs::exists(out / (std::string(name) + ".state.safetensors"))) << name;
  }
  // One metrics line per log_iter steps.
  std::ifstream metrics(out / "metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) {
    ++lines;
    EXPECT_NE(line.find("\"loss_mask\": "), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 2);
}

TEST_F(HooksTest, BestModelFollowsTheBestScoreAndCurvesAreDrawn) {
  std::vector<double> scores = {0.2, 0.1};
  int calls = 0;
  std::vector<std::unique_ptr<TrainerHook>> hooks;
  hooks.push_back(std::make_unique<CheckpointHook>(0));
  hooks.push_back(std::make_unique<EvaluationHook>([&](modeling::MaskRCNN& model) {
    EXPECT_FALSE(model->is_training());  // evaluated in eval mode, trained on after
    return std::optional<EvalScores>(EvalScores{scores[calls++], 0.0});
  }));
  hooks.push_back(std::make_unique<MetricsHook>(1));
  hooks.push_back(std::make_unique<CurvesHook>());
  train(std::move(hooks), "best");
  EXPECT_EQ(calls, 2);
  const fs::path out = dir_ / "best";
  const Checkpoint best = load_checkpoint((out / "best_model").string());
  EXPECT_DOUBLE_EQ(best.position.best_ap, 0.2);
  EXPECT_EQ(best.position.best_epoch, 0);
  EXPECT_EQ(best.position.iteration, 2);  // saved at epoch 0, not overwritten by the worse 0.1
  EXPECT_DOUBLE_EQ(load_checkpoint((out / "model_final").string()).position.best_ap, 0.2);
  EXPECT_TRUE(fs::exists(out / "training_curves.png"));
}

}  // namespace
}  // namespace mrcnn::engine
