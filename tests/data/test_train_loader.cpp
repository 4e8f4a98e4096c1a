// The training data path: per-epoch plans, per-rank slices, deterministic samples whatever the
// thread count, and targets that follow the image through resizing and flipping.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "mrcnn/coco/training_view.h"
#include "mrcnn/common/error.h"
#include "mrcnn/data/shapes.h"
#include "mrcnn/data/train_loader.h"

namespace mrcnn::data {
namespace {

namespace fs = std::filesystem;

structures::LabelMap labels_of(const coco::Dataset& d) {
  return structures::LabelMap(structures::LabelMap::Mode::kContiguous, 3, d.categories, d.path);
}

// Short sides to draw from, the long side capped at max_size, bilinear, flipped half the time.
TransformOptions sizes(const std::vector<int64_t>& short_sides, int64_t max_size) {
  TransformOptions o;
  o.target_sizes.clear();
  for (int64_t s : short_sides) o.target_sizes.push_back({s, max_size});
  o.interp = Interpolation::kBilinear;
  o.flip_probability = 0.5;
  return o;
}

TrainSample make_sample(const coco::Dataset& d, const coco::TrainingRecord& record,
                        const ImageFolder& image_dir, const TransformOptions& options,
                        uint64_t seed) {
  TrainSample sample = read_train_sample(d, record, image_dir, labels_of(d), options, seed);
  finish_train_sample(sample, options);
  return sample;
}

class TrainLoaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: CTest runs each test case as its own process, in parallel.
    dir_ = fs::temp_directory_path() / ("mrcnn_train_loader_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    make_shapes({.out_dir = dir_.string(),
                 .train_images = 24,
                 .val_images = 0,
                 .seed = 5,
                 .width = 96,
                 .height = 64});
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  coco::Dataset dataset() const {
    return coco::load_dataset((dir_ / "annotations" / "instances_train.json").string());
  }
  ImageFolder image_dir() const { return {.dir = (dir_ / "train").string()}; }

  static fs::path dir_;
};
fs::path TrainLoaderTest::dir_;

TEST_F(TrainLoaderTest, EpochPlansCoverEveryImageOnceAndDependOnlyOnSeedAndEpoch) {
  const coco::Dataset d = dataset();
  const auto records = coco::training_view(d, {.keep_empty_images = true}, nullptr);
  TrainLoaderOptions o{.batch_size = 4, .seed = 1};
  const auto a = plan_epoch(d, records, o, 0), b = plan_epoch(d, records, o, 0),
             c = plan_epoch(d, records, o, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::multiset<int64_t> seen;
  for (const auto& batch : a) {
    EXPECT_EQ(batch.size(), 4u);
    seen.insert(batch.begin(), batch.end());
  }
  EXPECT_EQ(seen.size(), records.size() / 4 * 4);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), seen.size());  // no repeats
}

TEST_F(TrainLoaderTest, TwoRanksSplitTheBatchesOfOneProcessWithTheirTotalBatch) {
  const coco::Dataset d = dataset();
  auto make = [&](int64_t batch, int64_t rank, int64_t world) {
    TrainLoaderOptions o{
        .batch_size = batch, .workers = 0, .seed = 3, .rank = rank, .world_size = world};
    return std::make_unique<TrainLoader>(d, coco::training_view(d, {}, nullptr), image_dir(),
                                         labels_of(d), sizes({64, 96}, 1333), o);
  };
  auto single = make(2, 0, 1), rank0 = make(1, 0, 2), rank1 = make(1, 1, 2);
  EXPECT_EQ(single->batches_per_epoch(), rank0->batches_per_epoch());
  for (auto* l : {single.get(), rank0.get(), rank1.get()}) l->start_epoch(2);
  for (int64_t k = 0; k < single->batches_per_epoch(); ++k) {
    const TrainBatch s = *single->next(), r0 = *rank0->next(), r1 = *rank1->next();
    ASSERT_EQ(s.image_ids, (std::vector<int64_t>{r0.image_ids[0], r1.image_ids[0]}));
    // Same augmentation too: the slot in the global batch seeds it, not the rank.
    EXPECT_TRUE(at::equal(s.targets[1].boxes, r1.targets[0].boxes));
    // And the same padded tensors: each rank pads to the global batch's largest image.
    EXPECT_TRUE(at::equal(s.images.tensor[1], r1.images.tensor[0]));
    EXPECT_TRUE(at::equal(s.images.tensor[0], r0.images.tensor[0]));
  }
  EXPECT_FALSE(single->next().has_value());
}

TEST_F(TrainLoaderTest, WorkerThreadsGiveTheSameBatchesAsTheCallingThread) {
  const coco::Dataset d = dataset();
  auto run = [&](int64_t workers, int64_t first_batch) {
    TrainLoaderOptions o{.batch_size = 3, .workers = workers, .prefetch = 2, .seed = 9};
    TrainLoader loader(d, coco::training_view(d, {}, nullptr), image_dir(), labels_of(d),
                       sizes({48, 64, 80}, 200), o);
    loader.start_epoch(1, first_batch);
    std::vector<TrainBatch> batches;
    while (auto b = loader.next()) batches.push_back(std::move(*b));
    return batches;
  };
  const auto inline_batches = run(0, 0), threaded = run(3, 0), resumed = run(2, 2);
  ASSERT_EQ(inline_batches.size(), threaded.size());
  ASSERT_EQ(resumed.size() + 2, threaded.size());
  for (std::size_t k = 0; k < threaded.size(); ++k) {
    EXPECT_EQ(inline_batches[k].image_ids, threaded[k].image_ids);
    EXPECT_TRUE(at::equal(inline_batches[k].images.tensor, threaded[k].images.tensor));
    if (k >= 2) {
      EXPECT_TRUE(at::equal(resumed[k - 2].images.tensor, threaded[k].images.tensor));
    }
  }
}

TEST_F(TrainLoaderTest, PreprocessingOnTheDeviceGivesTheWorkersBatches) {
  const coco::Dataset d = dataset();
  auto run = [&](bool on_device) {
    // The device here is the CPU: the same operations run in next() instead of the workers.
    TrainLoaderOptions o{
        .batch_size = 2, .workers = 2, .preprocess_on_device = on_device, .seed = 4};
    TrainLoader loader(d, coco::training_view(d, {}, nullptr), image_dir(), labels_of(d),
                       sizes({48, 80}, 200), o);
    loader.start_epoch(0);
    std::vector<TrainBatch> batches;
    while (auto b = loader.next()) {
      EXPECT_TRUE(b->unfinished.empty());  // handed out ready for the model
      EXPECT_TRUE(b->images.tensor.defined());
      batches.push_back(std::move(*b));
    }
    return batches;
  };
  const auto workers = run(false), device = run(true);
  ASSERT_EQ(workers.size(), device.size());
  ASSERT_GT(workers.size(), 1u);
  for (std::size_t k = 0; k < workers.size(); ++k) {
    EXPECT_TRUE(device[k].unfinished.empty());
    EXPECT_EQ(device[k].images.image_sizes, workers[k].images.image_sizes);
    EXPECT_TRUE(at::equal(device[k].images.tensor, workers[k].images.tensor));
    ASSERT_EQ(device[k].targets.size(), workers[k].targets.size());
    for (std::size_t i = 0; i < workers[k].targets.size(); ++i) {
      EXPECT_TRUE(at::equal(device[k].targets[i].masks, workers[k].targets[i].masks));
      EXPECT_TRUE(at::equal(device[k].targets[i].boxes, workers[k].targets[i].boxes));
    }
  }
}

TEST_F(TrainLoaderTest, TargetsFollowResizeAndFlip) {
  const coco::Dataset d = dataset();
  const auto records = coco::training_view(d, {}, nullptr);
  const coco::TrainingRecord& record = records.front();
  TransformOptions plain = sizes({128}, 1000);
  plain.flip_probability = 0;
  TransformOptions flipped = plain;
  flipped.flip_probability = 1;
  const TrainSample a = make_sample(d, record, image_dir(), plain, 1);
  const TrainSample b = make_sample(d, record, image_dir(), flipped, 1);
  // 96x64 scaled to a 128 short side: 192x128.
  EXPECT_EQ(a.image.sizes(), (std::vector<int64_t>{3, 128, 192}));
  const auto& box = record.boxes_xyxy.front();
  EXPECT_NEAR(a.targets.boxes[0][0].item<double>(), box[0] * 2, 1e-4);
  EXPECT_NEAR(a.targets.boxes[0][3].item<double>(), box[3] * 2, 1e-4);
  EXPECT_NEAR(b.targets.boxes[0][0].item<double>(), 192 - box[2] * 2, 1e-4);
  EXPECT_TRUE(at::equal(b.image, a.image.flip({-1})));
  EXPECT_TRUE(at::equal(b.targets.masks, a.targets.masks.flip({-1})));
  // The resized mask still fills its (scaled) box.
  const at::Tensor mask = a.targets.masks[0];
  const at::Tensor ys = at::where(mask.any(1))[0], xs = at::where(mask.any(0))[0];
  EXPECT_NEAR(xs.min().item<double>(), box[0] * 2, 2.5);
  EXPECT_NEAR(ys.max().item<double>() + 1, box[3] * 2, 2.5);
  EXPECT_EQ(a.targets.labels[0].item<int64_t>(),
            labels_of(d).label_of(d.annotations[record.annotation_indices[0]].category_id));
  EXPECT_EQ(a.targets.image_size, (structures::ImageSize{128, 192}));
}

TEST_F(TrainLoaderTest, AMissingImageIsReportedByName) {
  const coco::Dataset d = dataset();
  const auto records = coco::training_view(d, {}, nullptr);
  TrainLoader loader(d, records, {.dir = (dir_ / "nowhere").string()}, labels_of(d), {},
                     {.workers = 2});
  loader.start_epoch(0);
  try {
    loader.next();
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos) << e.what();
  }
}

TEST_F(TrainLoaderTest, ImageHeadersAreCheckedUpFrontWithEveryProblemNamed) {
  coco::Dataset d = dataset();
  const fs::path folder = dir_ / ("checked_" + std::to_string(getpid()));
  fs::create_directories(folder);
  for (std::size_t i = 0; i < 5; ++i) {
    fs::copy_file(dir_ / "train" / d.images[i].file_name, folder / d.images[i].file_name);
  }
  fs::remove(folder / d.images[1].file_name);                       // missing
  std::ofstream(folder / d.images[2].file_name) << "not an image";  // corrupt
  d.images[3].width += 1;                                           // mis-sized
  d.images[4].file_name = "";                                       // the folder itself
  const std::vector<int64_t> indices = {0, 1, 2, 3, 4};
  const auto problems = check_dataset_images(d, {.dir = folder.string()}, indices, 2);
  ASSERT_EQ(problems.size(), 4u);
  const std::vector<std::string> expected = {"cannot open file", "not a JPEG or PNG file",
                                             "the annotations say", "is a directory"};
  for (std::size_t k = 0; k < problems.size(); ++k) {
    const auto& p = problems[k];
    EXPECT_EQ(p.image_index, int64_t(k + 1));
    EXPECT_NE(p.message.find("image id " + std::to_string(d.images[k + 1].id)), std::string::npos)
        << p.message;
    EXPECT_NE(p.message.find(expected[k]), std::string::npos) << p.message;
  }
  // A pixel limit below the images' size refuses them all, from their headers.
  EXPECT_EQ(check_dataset_images(d, {.dir = folder.string(), .max_pixels = 100}, {0}).size(), 1u);
  const std::string report = describe_image_problems(problems, 5, 2);
  EXPECT_NE(report.find("4 of 5 images cannot be used:"), std::string::npos) << report;
  EXPECT_NE(report.find("... and 2 more"), std::string::npos) << report;
  try {
    require_dataset_images(d, {.dir = folder.string()});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("23 of 24 images cannot be used"), std::string::npos)
        << e.what();
  }
  fs::remove_all(folder);
}

}  // namespace
}  // namespace mrcnn::data
