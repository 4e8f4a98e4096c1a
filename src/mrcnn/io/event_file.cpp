#include "mrcnn/io/event_file.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/io/image.h"

namespace mrcnn::io {
namespace {

namespace fs = std::filesystem;

// --- protocol buffer encoding: just what Event and Summary need ---

enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_key(std::string& out, int field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | type);
}

void put_bytes(std::string& out, int field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

template <class T>
void put_fixed(std::string& out, int field, T value) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  put_key(out, field, sizeof(T) == 4 ? kFixed32 : kFixed64);
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));  // protobuf's fixed fields are little-endian, as is x86
  out.append(raw, sizeof(T));
}

// Summary { repeated Value value = 1; } with one value.
std::string summary_of(std::string_view value) {
  std::string summary;
  put_bytes(summary, 1, value);
  return summary;
}

// --- TFRecord framing ---

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // reflected 0x1EDC6F41
    table[i] = c;
  }
  return table;
}

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string framed(std::string_view payload) {
  std::string record;
  const uint64_t length = payload.size();
  char raw_length[8];
  std::memcpy(raw_length, &length, 8);
  record.append(raw_length, 8);
  const uint32_t length_crc = masked_crc32c(as_bytes({raw_length, 8}));
  record.append(reinterpret_cast<const char*>(&length_crc), 4);
  record.append(payload);
  const uint32_t payload_crc = masked_crc32c(as_bytes(payload));
  record.append(reinterpret_cast<const char*>(&payload_crc), 4);
  return record;
}

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string newest_event_file(const std::string& folder) {
  std::string newest;
  if (!fs::is_directory(folder)) return newest;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.rfind("events.out.tfevents.", 0) == 0 &&
        entry.path().string() > newest) {
      newest = entry.path().string();
    }
  }
  return newest;
}

// Reads a varint at `at`; false when the data ends first.
bool get_varint(std::string_view data, std::size_t& at, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && at < data.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(data[at++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

uint32_t crc32c(std::span<const uint8_t> bytes) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  uint32_t crc = 0xFFFFFFFFu;
  for (const uint8_t byte : bytes) crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::span<const uint8_t> bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

std::vector<std::string> read_event_records(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const std::string_view data(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<std::string> records;
  std::size_t at = 0;
  while (at + 12 <= data.size()) {
    uint64_t length = 0;
    uint32_t length_crc = 0, payload_crc = 0;
    std::memcpy(&length, data.data() + at, 8);
    std::memcpy(&length_crc, data.data() + at + 8, 4);
    if (length_crc != masked_crc32c(as_bytes(data.substr(at, 8)))) break;
    if (length > data.size() - at - 12 || data.size() - at - 12 - length < 4) break;
    const std::string_view payload = data.substr(at + 12, length);
    std::memcpy(&payload_crc, data.data() + at + 12 + length, 4);
    if (payload_crc != masked_crc32c(as_bytes(payload))) break;
    records.emplace_back(payload);
    at += 16 + length;
  }
  return records;
}

int64_t event_step(std::string_view event) {
  std::size_t at = 0;
  while (at < event.size()) {
    uint64_t key = 0;
    if (!get_varint(event, at, key)) return 0;
    const auto field = static_cast<int>(key >> 3);
    const auto type = static_cast<WireType>(key & 7);
    if (type == kVarint) {
      uint64_t value = 0;
      if (!get_varint(event, at, value)) return 0;
      if (field == 2) return static_cast<int64_t>(value);  // Event.step
    } else if (type == kFixed64) {
      at += 8;
    } else if (type == kFixed32) {
      at += 4;
    } else if (type == kLengthDelimited) {
      uint64_t length = 0;
      if (!get_varint(event, at, length)) return 0;
      at += length;
    } else {
      return 0;
    }
  }
  return 0;
}

EventFileWriter::EventFileWriter(const std::string& folder, int64_t keep_through_step) {
  create_directories(folder);
  const std::string existing = newest_event_file(folder);
  std::string kept;
  if (keep_through_step >= 0 && !existing.empty()) {
    path_ = existing;
    for (const std::string& record : read_event_records(existing)) {
      if (event_step(record) <= keep_through_step) kept += framed(record);
    }
  } else {
    if (!existing.empty()) fs::remove(existing);
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    path_ = join_path(folder, "events.out.tfevents." +
                                  std::to_string(static_cast<int64_t>(wall_time())) + "." + host);
    // Event { wall_time = 1; file_version = 3 }: the first record of every events file.
    std::string version;
    put_fixed(version, 1, wall_time());
    put_bytes(version, 3, "brain.Event:2");
    kept = framed(version);
  }
  write_file_atomically(path_, kept);
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr) {
    throw Error(ErrorLocation{.file = path_}, std::string("cannot open: ") + std::strerror(errno));
  }
}

EventFileWriter::~EventFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventFileWriter::write_event(int64_t step, std::string_view summary) {
  // Event { wall_time = 1; step = 2; summary = 5 }
  std::string event;
  put_fixed(event, 1, wall_time());
  put_key(event, 2, kVarint);
  put_varint(event, static_cast<uint64_t>(step));
  put_bytes(event, 5, summary);
  const std::string record = framed(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size()) {
    throw Error(ErrorLocation{.file = path_}, std::string("write failed: ") + std::strerror(errno));
  }
}

void EventFileWriter::add_scalar(std::string_view tag, double value, int64_t step) {
  // Summary.Value { tag = 1; simple_value = 2 (float) }
  std::string entry;
  put_bytes(entry, 1, tag);
  put_fixed(entry, 2, static_cast<float>(value));
  write_event(step, summary_of(entry));
}

void EventFileWriter::add_image(std::string_view tag, const at::Tensor& rgb, int64_t step) {
  const std::vector<uint8_t> png = encode_png(rgb);
  // Summary.Image { height = 1; width = 2; colorspace = 3 (3: RGB); encoded_image_string = 4 }
  std::string image;
  put_key(image, 1, kVarint);
  put_varint(image, static_cast<uint64_t>(rgb.size(0)));
  put_key(image, 2, kVarint);
  put_varint(image, static_cast<uint64_t>(rgb.size(1)));
  put_key(image, 3, kVarint);
  put_varint(image, 3);
  put_bytes(image, 4, {reinterpret_cast<const char*>(png.data()), png.size()});
  // Summary.Value { tag = 1; image = 4 }
  std::string entry;
  put_bytes(entry, 1, tag);
  put_bytes(entry, 4, image);
  write_event(step, summary_of(entry));
}

void EventFileWriter::add_text(std::string_view tag, std::string_view markdown, int64_t step) {
  // TensorProto { dtype = 1 (7: DT_STRING); tensor_shape = 2 (a scalar: empty); string_val = 8 }
  std::string tensor;
  put_key(tensor, 1, kVarint);
  put_varint(tensor, 7);
  put_bytes(tensor, 2, "");
  put_bytes(tensor, 8, markdown);
  // SummaryMetadata { plugin_data = 1 { plugin_name = 1 } }
  std::string plugin, metadata;
  put_bytes(plugin, 1, "text");
  put_bytes(metadata, 1, plugin);
  // Summary.Value { tag = 1; tensor = 8; metadata = 9 }
  std::string entry;
  put_bytes(entry, 1, tag);
  put_bytes(entry, 9, metadata);
  put_bytes(entry, 8, tensor);
  write_event(step, summary_of(entry));
}

void EventFileWriter::flush() {
  if (std::fflush(file_) != 0) {
    throw Error(ErrorLocation{.file = path_}, std::string("flush failed: ") + std::strerror(errno));
  }
}

}  // namespace mrcnn::io
