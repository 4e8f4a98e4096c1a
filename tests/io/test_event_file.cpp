// TensorBoard event files: CRC-32C against its published check value, records read back as
// written, and a reopened file that forgets later steps and a record cut short by a crash.
// (tests/cli/test_tensorboard.py reads the files with TensorBoard itself.)
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mrcnn/common/file.h"
#include "mrcnn/io/event_file.h"

namespace mrcnn::io {
namespace {

namespace fs = std::filesystem;

std::span<const uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

fs::path fresh_folder(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / (name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  return dir;
}

TEST(EventFile, Crc32cMatchesItsCheckValue) {
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);  // the CRC-32C catalogue's check
  EXPECT_EQ(crc32c(bytes_of("")), 0u);
  const uint32_t crc = crc32c(bytes_of("123456789"));
  EXPECT_EQ(masked_crc32c(bytes_of("123456789")), ((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
}

std::vector<int64_t> steps_in(const std::string& path) {
  std::vector<int64_t> steps;
  for (const std::string& record : read_event_records(path)) steps.push_back(event_step(record));
  return steps;
}

TEST(EventFile, AResumedFileKeepsTheStepsUpToTheCheckpointAndDropsAHalfRecord) {
  const fs::path dir = fresh_folder("mrcnn_event_file_test");
  std::string path;
  {
    EventFileWriter writer(dir.string(), -1);
    path = writer.path();
    for (int64_t step = 1; step <= 8; ++step) writer.add_scalar("train/loss", 1.0 / step, step);
    writer.add_image("eval/picture", at::zeros({4, 6, 3}, at::kByte), 8);
    writer.add_text("eval/table", "| a |", 8);
  }
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u);
  // The version record (step 0), eight scalars, the picture and the text.
  EXPECT_EQ(steps_in(path), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8}));

  // A crash in the middle of a record: its first bytes are there, the rest is not.
  std::ofstream(path, std::ios::app | std::ios::binary) << std::string("\x30\x00\x00\x00\x00", 5);
  EXPECT_EQ(read_event_records(path).size(), 11u);  // the torn record is not read
  {
    EventFileWriter resumed(dir.string(), 5);  // resumed from the checkpoint of step 5
    EXPECT_EQ(resumed.path(), path);           // the same file, continued
    resumed.add_scalar("train/loss", 0.25, 6);
  }
  EXPECT_EQ(steps_in(path), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  // Every byte of the file is whole records again.
  std::size_t total = 0;
  for (const std::string& record : read_event_records(path)) total += record.size() + 16;
  EXPECT_EQ(total, fs::file_size(path));

  // A fresh run starts a new file.
  { EventFileWriter fresh(dir.string(), -1); }
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mrcnn::io
