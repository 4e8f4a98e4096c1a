// Training checkpoints: a round trip, a torn pair refused, and the newest one of a folder.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>

#include <unistd.h>

#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/engine/checkpoint.h"

namespace mrcnn::engine {
namespace {

TEST(Checkpoint, RoundTripAndATornPairIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mrcnn_checkpoint_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  torch::nn::Conv2d model(torch::nn::Conv2dOptions(1, 2, 1));
  const TrainerPosition position{
      .epoch = 3, .batch = 7, .iteration = 52, .best_ap = 0.25, .best_epoch = 1};
  const io::NamedTensors state = {{"momentum.conv.weight", at::randn({2, 1, 1, 1})}};
  save_checkpoint((dir / "last").string(), *model, state, position);
  const Checkpoint loaded = load_checkpoint((dir / "last.safetensors").string());
  EXPECT_EQ(loaded.position.epoch, 3);
  EXPECT_EQ(loaded.position.batch, 7);
  EXPECT_EQ(loaded.position.iteration, 52);
  EXPECT_DOUBLE_EQ(loaded.position.best_ap, 0.25);
  ASSERT_EQ(loaded.state.size(), 1u);
  EXPECT_TRUE(at::equal(loaded.state[0].second, state[0].second));
  ASSERT_EQ(loaded.weights.size(), model_state(*model).size());

  // New state beside old weights (a crash between the two renames) is detected.
  TrainerPosition later = position;
  later.iteration = 60;
  save_checkpoint((dir / "other").string(), *model, state, later);
  std::filesystem::copy_file(dir / "other.state.safetensors", dir / "last.state.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    load_checkpoint((dir / "last").string());
    FAIL() << "a torn checkpoint loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("incomplete checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_checkpoint((dir / "missing").string()), Error);
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, TheNewestOfAFolderIsTheFurthestConsistentOne) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mrcnn_newest_checkpoint_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(newest_checkpoint(dir.string()));  // no folder yet
  std::filesystem::create_directories(dir);
  EXPECT_FALSE(newest_checkpoint(dir.string()));  // an empty one
  torch::nn::Conv2d model(torch::nn::Conv2dOptions(1, 2, 1));
  const io::NamedTensors state = {{"momentum.conv.weight", at::randn({2, 1, 1, 1})}};
  auto save = [&](const std::string& name, int64_t iteration) {
    save_checkpoint((dir / name).string(), *model, state, TrainerPosition{.iteration = iteration});
  };
  save("0", 10);
  save("1", 20);
  save("last", 25);
  save("best_model", 90);  // a copy of a snapshot: never where a run continues
  auto found = newest_checkpoint(dir.string());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->stem, (dir / "last").string());
  EXPECT_EQ(found->iteration, 25);

  // A save of `last` torn between its renames: its new weights beside its old state are no
  // pair, but the new pair is complete under the incoming names and counts.
  save("other", 40);
  std::filesystem::copy_file(dir / "other.safetensors", dir / "last.new.safetensors");
  std::filesystem::copy_file(dir / "other.state.safetensors", dir / "last.new.state.safetensors");
  std::filesystem::remove(dir / "other.safetensors");
  std::filesystem::remove(dir / "other.state.safetensors");
  found = newest_checkpoint(dir.string());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->stem, (dir / "last").string());
  EXPECT_EQ(found->iteration, 40);
  EXPECT_EQ(load_checkpoint(found->stem).position.iteration, 40);

  // A name whose files belong to different saves, with nothing older left, is passed over.
  save("2", 50);
  std::filesystem::copy_file(dir / "0.state.safetensors", dir / "2.state.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  found = newest_checkpoint(dir.string());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->iteration, 40);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mrcnn::engine
