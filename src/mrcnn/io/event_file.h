// TensorBoard event files, written natively: TFRecord framing (length, masked CRC-32C of the
// length, payload, masked CRC-32C of the payload) around tensorflow.Event protocol buffers
// carrying scalar, image and text summaries. The handful of protobuf fields these need are
// encoded here by hand; the field numbers are TensorFlow's (event.proto, summary.proto,
// tensor.proto), so TensorBoard, tbparse or TensorFlow read the files as their own.
//
// A run keeps one file. Reopened after a resume from step S, the file first loses every record
// past S (those steps are run again) and any half-written record a crash left at its end, so
// each series stays one continuous line.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mrcnn::io {

// CRC-32C (Castagnoli), and TFRecord's masking of it.
uint32_t crc32c(std::span<const uint8_t> bytes);
uint32_t masked_crc32c(std::span<const uint8_t> bytes);

class EventFileWriter {
 public:
  // Opens the folder's events file (the newest `events.out.tfevents.*` there) or starts one.
  // keep_through_step >= 0: records of later steps are dropped first (a resumed run);
  // < 0: a fresh run, any old file is replaced by a new one.
  EventFileWriter(const std::string& folder, int64_t keep_through_step);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  void add_scalar(std::string_view tag, double value, int64_t step);
  // rgb: uint8 [H, W, 3], stored as PNG.
  void add_image(std::string_view tag, const at::Tensor& rgb, int64_t step);
  // Markdown, shown by TensorBoard's text dashboard.
  void add_text(std::string_view tag, std::string_view markdown, int64_t step);
  // Hands what was added to the OS, for TensorBoard to read (and a crash to keep): after each
  // group of adds, not each add.
  void flush();

  const std::string& path() const { return path_; }

 private:
  void write_event(int64_t step, std::string_view summary);
  std::string path_;
  std::FILE* file_ = nullptr;
};

// The records of an events file, as written (for the resume above and for tests): each
// record's payload, up to the first incomplete or corrupt one.
std::vector<std::string> read_event_records(const std::string& path);
// The step of an encoded tensorflow.Event (0 when it has none).
int64_t event_step(std::string_view event);

}  // namespace mrcnn::io
