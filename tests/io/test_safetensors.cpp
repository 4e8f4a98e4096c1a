// Our weights format: round trips and clear errors for damaged files.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/io/safetensors.h"

namespace mrcnn::io {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mrcnn_" + name)).string();
}

TEST(Safetensors, RoundTripKeepsOrderDtypesShapesAndMetadata) {
  const NamedTensors tensors = {{"b.weight", at::randn({3, 4})},
                                {"a.count", at::tensor({7L, 8L})},
                                {"c.scalar", at::tensor(2.5, at::kDouble)},
                                {"d.half", at::randn({2, 2}).to(at::kHalf)},
                                {"e.empty", at::empty({0, 5})}};
  const std::string path = temp_path("roundtrip.safetensors");
  save_safetensors(path, tensors, {{"epoch", "3"}});
  Metadata metadata;
  const NamedTensors back = load_safetensors(path, &metadata);
  ASSERT_EQ(back.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(back[i].first, tensors[i].first);
    EXPECT_TRUE(at::equal(back[i].second, tensors[i].second)) << tensors[i].first;
  }
  EXPECT_EQ(metadata, (Metadata{{"epoch", "3"}}));
  // The loader for any weights file recognises the format.
  EXPECT_EQ(load_weights_file(path).size(), tensors.size());
  std::filesystem::remove(path);
}

TEST(Safetensors, DamagedFilesAreErrorsNamingTheFile) {
  const std::string path = temp_path("damaged.safetensors");
  save_safetensors(path, {{"w", at::randn({16})}});
  std::vector<uint8_t> bytes = read_file_bytes(path);
  write_file_atomically(path, std::span(bytes).first(bytes.size() - 4));  // data cut short
  try {
    load_safetensors(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> tiny = {1, 2, 3};
  write_file_atomically(path, tiny);
  EXPECT_THROW(load_safetensors(path), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace mrcnn::io
