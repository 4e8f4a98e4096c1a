// Whole-file reads and atomic writes: clear errors for what is not a file, and a file that is
// only replaced once its new content is complete.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "support/error_of.h"

namespace mrcnn {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mrcnn_file_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir_;
};

using testing::error_of;

TEST_F(FileTest, ReadsBytesAndNamesWhatIsNotAFile) {
  write_file_atomically((dir_ / "a.bin").string(), std::string_view("abc"));
  EXPECT_EQ(read_file_bytes((dir_ / "a.bin").string()), (std::vector<uint8_t>{'a', 'b', 'c'}));
  const std::string directory = error_of([&] { read_file_bytes(dir_.string()); });
  EXPECT_NE(directory.find(dir_.string()), std::string::npos) << directory;
  EXPECT_NE(directory.find("is a directory"), std::string::npos) << directory;
  const std::string missing = error_of([&] { read_file_bytes((dir_ / "none").string()); });
  EXPECT_NE(missing.find("cannot open"), std::string::npos) << missing;
}

TEST_F(FileTest, AnUnfinishedWriterLeavesTheOldFile) {
  const fs::path path = dir_ / "results.json";
  write_file_atomically(path.string(), std::string_view("old"));
  {
    AtomicFileWriter writer(path.string());
    writer.write(std::string_view("new, but never committed"));
  }
  EXPECT_EQ(read(path), "old");
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
  AtomicFileWriter writer(path.string());
  writer.write(std::string_view("new"));
  EXPECT_EQ(read(path), "old");
  writer.commit();
  EXPECT_EQ(read(path), "new");
}

TEST_F(FileTest, CreatingADirectoryNamesTheFileInTheWay) {
  create_directories((dir_ / "x" / "y").string());
  EXPECT_TRUE(fs::is_directory(dir_ / "x" / "y"));
  write_file_atomically((dir_ / "file").string(), std::string_view("."));
  const std::string message =
      error_of([&] { create_directories((dir_ / "file" / "out").string()); });
  EXPECT_NE(message.find("is a file, not a directory"), std::string::npos) << message;
}

}  // namespace
}  // namespace mrcnn
