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

// A valid PNG header claiming `width` x `height` with no pixel data after it: what a
// decompression bomb looks like before its (small, highly compressed) data.
std::vector<uint8_t> png_header_only(uint32_t width, uint32_t height) {
  std::vector<uint8_t> png = encode_png(test_image(1, 1));
  auto put32 = [&](std::size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = uint8_t(v >> (24 - 8 * i));
  };
  put32(16, width);  // IHDR data starts at byte 16
  put32(20, height);
  // IHDR's CRC covers its type and data (bytes 12..28).
  uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 12; i < 29; ++i) {
    crc ^= png[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  put32(29, ~crc);
  return png;
}

TEST(Image, HugeImagesAreRefusedFromTheirHeader) {
  const std::vector<uint8_t> bomb = png_header_only(20000, 20000);
  std::string message;
  try {
    decode_image(bomb, "bomb.png");
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("bomb.png"), std::string::npos) << message;
  EXPECT_NE(message.find("20000x20000 (400000000 pixels), over the limit of 178956970"),
            std::string::npos)
      << message;
  // The limit is the caller's: a small one refuses small images, 0 lifts it.
  const std::vector<uint8_t> jpeg = encode_jpeg(test_image(30, 40));
  EXPECT_THROW(decode_image(jpeg, "x.jpg", 1199), Error);
  EXPECT_EQ(decode_image(jpeg, "x.jpg", 1200).size(0), 30);
  EXPECT_EQ(decode_image(jpeg, "x.jpg", 0).size(1), 40);
}

TEST(Image, HeadersGiveTheSizeWithoutDecoding) {
  const auto dir = std::filesystem::temp_directory_path() / "mrcnn_image_header_test";
  std::filesystem::create_directories(dir);
  const std::string jpeg = (dir / "a.jpg").string(), png = (dir / "b.png").string();
  write_image_file(test_image(30, 40), jpeg);
  write_image_file(test_image(7, 5), png);
  EXPECT_EQ(read_image_header(jpeg).height, 30);
  EXPECT_EQ(read_image_header(jpeg).width, 40);
  EXPECT_EQ(read_image_header(png).height, 7);
  EXPECT_EQ(read_image_header(png).width, 5);
  // A JPEG whose header lies beyond the first read (a large metadata segment first).
  std::vector<uint8_t> bytes = encode_jpeg(test_image(30, 40));
  std::vector<uint8_t> padded(bytes.begin(), bytes.begin() + 2);
  for (int segment = 0; segment < 3; ++segment) {  // three 60 KiB APP1 segments
    const std::size_t length = 60 * 1024;
    padded.insert(padded.end(), {0xFF, 0xE1, uint8_t(length >> 8), uint8_t(length & 0xFF)});
    padded.insert(padded.end(), length - 2, 0);
  }
  padded.insert(padded.end(), bytes.begin() + 2, bytes.end());
  const std::string late = (dir / "late.jpg").string();
  std::FILE* f = std::fopen(late.c_str(), "wb");
  std::fwrite(padded.data(), 1, padded.size(), f);
  std::fclose(f);
  EXPECT_EQ(read_image_header(late).width, 40);
  EXPECT_EQ(decode_image_file(late).size(0), 30);
  // The bomb is refused from its header; a folder and a text file are named.
  const std::string bomb = (dir / "bomb.png").string();
  const std::vector<uint8_t> huge = png_header_only(30000, 30000);
  f = std::fopen(bomb.c_str(), "wb");
  std::fwrite(huge.data(), 1, huge.size(), f);
  std::fclose(f);
  EXPECT_THROW(read_image_header(bomb), Error);
  EXPECT_EQ(read_image_header(bomb, 0).width, 30000);
  try {
    read_image_header(dir.string());
    ADD_FAILURE() << "a folder read as an image";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
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
