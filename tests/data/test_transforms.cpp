// The one preprocessing: sizes as PaddleDetection's Resize / RandomResize compute them, every
// interpolation honoured, and batches padded with their original sizes kept.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <set>

#include "mrcnn/data/transforms.h"

namespace mrcnn::data {
namespace {

TransformOptions resize_to(std::vector<std::array<int64_t, 2>> sizes, bool keep_ratio = true) {
  TransformOptions o;
  o.target_sizes = std::move(sizes);
  o.keep_ratio = keep_ratio;
  return o;
}

TEST(Transforms, SizesKeepTheRatioOrAreExact) {
  // [800, 1333] and [1333, 800] mean the same: short side 800, long side at most 1333.
  EXPECT_EQ(fixed_geometry({400, 600}, resize_to({{800, 1333}})).size, (ImageSize{800, 1200}));
  EXPECT_EQ(fixed_geometry({400, 600}, resize_to({{1333, 800}})).size, (ImageSize{800, 1200}));
  // [a] is [a, a]: the long side becomes a.
  EXPECT_EQ(fixed_geometry({300, 600}, resize_to({{300, 300}})).size, (ImageSize{150, 300}));
  // Without keep_ratio the size is [height, width].
  EXPECT_EQ(fixed_geometry({400, 600}, resize_to({{123, 456}}, false)).size, (ImageSize{123, 456}));
  // No resize at all: the image keeps its size.
  EXPECT_EQ(fixed_geometry({37, 51}, resize_to({})).size, (ImageSize{37, 51}));
}

TEST(Transforms, DrawsFromTheSeedOnly) {
  TransformOptions o = resize_to({{100, 1000}, {200, 1000}, {300, 1000}});
  o.flip_probability = 0.5;
  std::set<int64_t> sides;
  int flips = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    const SampleGeometry g = sample_geometry({100, 100}, o, seed);
    EXPECT_EQ(g.size, sample_geometry({100, 100}, o, seed).size);
    sides.insert(g.size[0]);
    flips += g.flip;
  }
  EXPECT_EQ(sides, (std::set<int64_t>{100, 200, 300}));
  EXPECT_GT(flips, 10);
  EXPECT_LT(flips, 54);
}

// A 4x4 image halved: each output pixel has a 2x2 footprint.
class Halving : public ::testing::Test {
 protected:
  void SetUp() override {
    rgb = at::arange(48, at::kByte).view({4, 4, 3}).contiguous();
    options = resize_to({{2, 2}}, false);
    options.normalize = false;  // pixel values stay 0..255: easy to check by hand
  }
  at::Tensor resized(Interpolation interp) {
    options.interp = interp;
    return transform_image(rgb, fixed_geometry({4, 4}, options), options);
  }
  at::Tensor planes() const { return rgb.permute({2, 0, 1}).to(at::kFloat); }  // [3, 4, 4]
  at::Tensor rgb;
  TransformOptions options;
};

TEST_F(Halving, NearestTakesOnePixelOfEachFootprint) {
  const at::Tensor expected = planes().index(
      {at::indexing::Slice(), at::indexing::Slice(0, 4, 2), at::indexing::Slice(0, 4, 2)});
  EXPECT_TRUE(at::equal(resized(Interpolation::kNearest), expected));
}

TEST_F(Halving, BilinearAndAreaAverageTheFootprint) {
  // Half-pixel centres: each output sample lies in the middle of its 2x2 footprint.
  const at::Tensor mean = planes().view({3, 2, 2, 2, 2}).mean({2, 4});
  EXPECT_TRUE(at::allclose(resized(Interpolation::kBilinear), mean));
  EXPECT_TRUE(at::allclose(resized(Interpolation::kArea), mean));
}

TEST_F(Halving, BicubicReachesBeyondTheFootprint) {
  const at::Tensor cubic = resized(Interpolation::kBicubic);
  EXPECT_FALSE(at::allclose(cubic, planes().view({3, 2, 2, 2, 2}).mean({2, 4})));
  EXPECT_TRUE(at::allclose(cubic, at::upsample_bicubic2d(planes().unsqueeze(0), {2, 2}, false)[0]));
}

TEST(Transforms, NormalisesThenPadsWithTheOriginalSizesKept) {
  TransformOptions o = resize_to({{8, 100}});
  o.interp = Interpolation::kBilinear;
  o.mean = {0.5, 0.5, 0.5};
  o.std = {0.5, 0.25, 0.125};
  o.pad_to_stride = 16;
  const at::Tensor white = at::full({4, 6, 3}, 255, at::kByte);
  const structures::ImageList batch = preprocess_images({white}, o, c10::Device(c10::kCPU));
  EXPECT_EQ(batch.tensor.sizes(), (std::vector<int64_t>{1, 3, 16, 16}));
  EXPECT_EQ(batch.image_sizes[0], (ImageSize{8, 12}));
  EXPECT_EQ(batch.original_sizes[0], (ImageSize{4, 6}));
  // (1 - 0.5) / std inside the image, zero padding outside.
  EXPECT_FLOAT_EQ(batch.tensor[0][1][0][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(batch.tensor[0][2][7][11].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(batch.tensor[0][0][8][0].item<float>(), 0.0f);
}

TEST(Transforms, MasksTakeTheNearestPixelAndFlipWithTheImage) {
  at::Tensor masks = at::zeros({1, 4, 4}, at::kByte);
  masks[0][0][0] = 1;
  const at::Tensor grown = transform_masks(masks, {.size = {8, 8}, .flip = true});
  EXPECT_EQ(grown.sum().item<int64_t>(), 4);     // one pixel becomes 2x2
  EXPECT_EQ(grown[0][0][7].item<int64_t>(), 1);  // on the right after the flip
}

}  // namespace
}  // namespace mrcnn::data
