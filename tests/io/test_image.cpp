// Image decode/encode: round trips and clear errors for broken files.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/io/image.h"

namespace mrcnn::io {
namespace {

at::Tensor test_image(int64_t h, int64_t w) {
  at::Tensor image = at::empty({h, w, 3}, at::kByte);
  auto* p = image.data_ptr<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      p[(y * w + x) * 3 + 0] = uint8_t(x * 255 / std::max<int64_t>(w - 1, 1));
      p[(y * w + x) * 3 + 1] = uint8_t(y * 255 / std::max<int64_t>(h - 1, 1));
      p[(y * w + x) * 3 + 2] = uint8_t((x + y) % 2 ? 200 : 40);
    }
  return image;
}

std::string error_of(std::span<const uint8_t> bytes) {
  try {
    decode_image(bytes, "broken.img");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

TEST(Image, PngRoundTripIsExact) {
  const at::Tensor image = test_image(17, 23);
  const at::Tensor back = decode_image(encode_png(image), "x.png");
  ASSERT_EQ(back.sizes(), image.sizes());
  EXPECT_TRUE(at::equal(back, image));
}

TEST(Image, JpegRoundTripIsClose) {
  at::Tensor image = test_image(64, 48);
  image.select(2, 2).fill_(128);  // smooth content: JPEG's error stays small
  const at::Tensor back = decode_image(encode_jpeg(image, 95), "x.jpg");
  ASSERT_EQ(back.sizes(), image.sizes());
  const double error = (back.to(at::kFloat) - image.to(at::kFloat)).abs().mean().item<double>();
  EXPECT_LT(error, 3.0);
}

TEST(Image, TruncatedAndCorruptFilesNameTheFile) {
  const std::vector<uint8_t> jpeg = encode_jpeg(test_image(32, 32));
  const std::vector<uint8_t> png = encode_png(test_image(32, 32));
  const std::string cut_jpeg = error_of(std::span(jpeg).first(jpeg.size() / 2));
  EXPECT_NE(cut_jpeg.find("broken.img"), std::string::npos) << cut_jpeg;
  EXPECT_NE(cut_jpeg.find("JPEG"), std::string::npos) << cut_jpeg;
  const std::string cut_png = error_of(std::span(png).first(png.size() / 2));
  EXPECT_NE(cut_png.find("PNG"), std::string::npos) << cut_png;
  std::vector<uint8_t> garbage = png;
  for (std::size_t i = 40; i < garbage.size(); ++i) garbage[i] ^= 0x5A;
  EXPECT_NE(error_of(garbage).find("broken.img"), std::string::npos);
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_NE(error_of(text).find("not a JPEG or PNG"), std::string::npos);
  EXPECT_NE(error_of({}).find("empty image file"), std::string::npos);
}

TEST(Image, FilesAreWrittenAtomicallyAndReadBack) {
  const auto path = (std::filesystem::temp_directory_path() / "mrcnn_image_test.png").string();
  const at::Tensor image = test_image(9, 11);
  write_image_file(image, path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_TRUE(at::equal(decode_image_file(path), image));
  std::filesystem::remove(path);
  EXPECT_THROW(decode_image_file(path), Error);
  EXPECT_THROW(write_image_file(image, path + ".bmp"), Error);
}

}  // namespace
}  // namespace mrcnn::io
