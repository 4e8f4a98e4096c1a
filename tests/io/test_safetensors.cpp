// Our weights format: round trips and clear errors for damaged files.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstring>
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

// A safetensors file from a hand-written header and `data_bytes` zero bytes of data.
std::vector<uint8_t> with_header(const std::string& json, std::size_t data_bytes) {
  std::vector<uint8_t> file(8 + json.size() + data_bytes, 0);
  const uint64_t length = json.size();
  std::memcpy(file.data(), &length, 8);
  std::memcpy(file.data() + 8, json.data(), json.size());
  return file;
}

std::string parse_error(const std::vector<uint8_t>& file) {
  try {
    parse_safetensors(file, "hostile.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

TEST(Safetensors, HeadersMustDescribeTheDataExactly) {
  // As Python's safetensors requires: the byte ranges tile the data, no overlap, no gap.
  const std::string two = R"("a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, )";
  EXPECT_NO_THROW(parse_safetensors(
      with_header("{" + two + R"("b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                  12),
      "ok"));
  std::string m = parse_error(with_header(
      "{" + two + R"("b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 12));
  EXPECT_NE(m.find("hostile.safetensors"), std::string::npos) << m;
  EXPECT_NE(m.find("overlaps another tensor's bytes"), std::string::npos) << m;
  m = parse_error(with_header(
      "{" + two + R"("b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}})", 16));
  EXPECT_NE(m.find("leaves a gap"), std::string::npos) << m;
  // A shape of 2^40 elements in a small file: refused before anything is allocated.
  m = parse_error(with_header(
      R"({"a": {"dtype": "F32", "shape": [1099511627776], "data_offsets": [0, 4]}})", 4));
  EXPECT_NE(m.find("larger than the file's data"), std::string::npos) << m;
  m = parse_error(
      with_header(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4));
  EXPECT_NE(m.find("not a non-negative integer"), std::string::npos) << m;
  m = parse_error(
      with_header(R"({"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}})", 4));
  EXPECT_NE(m.find("tensor 'a'"), std::string::npos) << m;
  EXPECT_NE(parse_error({}).find("empty file"), std::string::npos);
}

TEST(Safetensors, AnEmptyWeightsFileSaysSo) {
  const std::string path = temp_path("empty.safetensors");
  write_file_atomically(path, std::vector<uint8_t>{});
  try {
    load_weights_file(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("pickle"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(Safetensors, MetadataIsReadWithoutTheTensors) {
  const std::string path = temp_path("metadata.safetensors");
  save_safetensors(path, {{"w", at::randn({64})}}, {{"mrcnn.save", "12-ab"}});
  EXPECT_EQ(load_safetensors_metadata(path), (Metadata{{"mrcnn.save", "12-ab"}}));
  std::vector<uint8_t> bytes = read_file_bytes(path);
  write_file_atomically(path, std::span(bytes).first(bytes.size() - 1));
  EXPECT_THROW(load_safetensors_metadata(path), Error);  // its ranges no longer fit
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace mrcnn::io
