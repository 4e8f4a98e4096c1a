#include "mrcnn/io/safetensors.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/json_reader.h"
#include "mrcnn/common/json_writer.h"
#include "mrcnn/io/download.h"
#include "mrcnn/io/torch_checkpoint.h"

namespace mrcnn::io {
namespace {

const std::map<at::ScalarType, std::string>& dtype_names() {
  static const std::map<at::ScalarType, std::string> kNames = {
      {at::kFloat, "F32"}, {at::kDouble, "F64"}, {at::kHalf, "F16"},  {at::kBFloat16, "BF16"},
      {at::kLong, "I64"},  {at::kInt, "I32"},    {at::kShort, "I16"}, {at::kChar, "I8"},
      {at::kByte, "U8"},   {at::kBool, "BOOL"}};
  return kNames;
}

at::ScalarType dtype_of(const std::string& name) {
  for (const auto& [type, text] : dtype_names()) {
    if (text == name) return type;
  }
  throw Error("unsupported dtype " + name);
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (std::size_t i = 0; i < metadata.size(); ++i) {
      header += fmt::format("{}\"{}\":\"{}\"", i ? "," : "", json_escape(metadata[i].first),
                            json_escape(metadata[i].second));
    }
    header += "}";
  }
  std::vector<at::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const auto type = dtype_names().find(t.scalar_type());
    TORCH_CHECK(type != dtype_names().end(), "cannot store ", t.scalar_type(), " in safetensors");
    std::string shape;
    for (int64_t i = 0; i < t.dim(); ++i) shape += fmt::format("{}{}", i ? "," : "", t.size(i));
    header += fmt::format("{}\"{}\":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                          header.size() > 1 ? "," : "", json_escape(name), type->second, shape,
                          offset, offset + t.nbytes());
    offset += t.nbytes();
    data.push_back(t);
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  std::vector<uint8_t> bytes(8 + header.size() + offset);
  const uint64_t header_size = header.size();
  std::memcpy(bytes.data(), &header_size, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  uint8_t* out = bytes.data() + 8 + header.size();
  for (const auto& t : data) {
    if (t.nbytes() > 0) std::memcpy(out, t.data_ptr(), t.nbytes());  // empty: no storage
    out += t.nbytes();
  }
  write_file_atomically(path, bytes);
}

namespace {

struct Entry {
  std::string name;
  at::ScalarType dtype = at::kFloat;
  std::vector<int64_t> sizes;
  uint64_t begin = 0, end = 0;  // byte range in the data section
};

struct Header {
  std::vector<Entry> entries;  // in the header's order
  Metadata metadata;
  uint64_t length = 0;  // of the JSON header
};

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error(ErrorLocation{.file = path}, message);
}

// An integer of the header that must be exact and non-negative (JSON numbers are read as
// doubles: 2^53 and beyond lose precision, and no real tensor is that large).
uint64_t exact_count(double value, const std::string& path, const std::string& what) {
  if (!(value >= 0 && value <= 9007199254740992.0 && value == std::floor(value)))
    fail(path, what + " is not a non-negative integer below 2^53");
  return static_cast<uint64_t>(value);
}

// The JSON header, every entry checked against the data section's size before any tensor is
// made: known dtypes, shapes whose byte size fits, ranges that tile the data exactly (as the
// safetensors format requires: no overlap, no gap). `start` holds at least the length and the
// header of a file of file_size bytes.
Header parse_header(std::span<const uint8_t> start, uint64_t file_size, const std::string& path) {
  if (file_size == 0) fail(path, "empty file (no safetensors header)");
  if (file_size < 8 || start.size() < 8) fail(path, "too short for a safetensors file");
  Header header;
  std::memcpy(&header.length, start.data(), 8);
  if (header.length > file_size - 8 || header.length > start.size() - 8)
    fail(path, "header length exceeds the file");
  const uint64_t data_size = file_size - 8 - header.length;
  const simdjson::padded_string text(reinterpret_cast<const char*>(start.data() + 8),
                                     header.length);
  JsonReader reader(path, text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(text).get(doc) != simdjson::SUCCESS) fail(path, "unreadable header");
  reader.set_document(&doc);
  simdjson::ondemand::object root = checked(doc.get_object(), reader, "header", doc);
  for (auto field : root) {
    simdjson::ondemand::field f = checked(std::move(field), reader, "header", doc);
    const std::string name(checked(f.unescaped_key(), reader, "header", doc));
    simdjson::ondemand::object object = checked(f.value().get_object(), reader, name, doc);
    if (name == "__metadata__") {
      for (auto item : object) {
        simdjson::ondemand::field m = checked(std::move(item), reader, name, doc);
        const std::string key(checked(m.unescaped_key(), reader, name, doc));
        header.metadata.emplace_back(key, std::string(reader.string(m.value(), name, key)));
      }
      continue;
    }
    Entry entry{.name = name};
    std::string dtype;
    std::vector<double> shape, offsets;
    for (auto item : object) {
      simdjson::ondemand::field m = checked(std::move(item), reader, name, doc);
      const std::string_view key = checked(m.unescaped_key(), reader, name, doc);
      if (key == "dtype") dtype = std::string(reader.string(m.value(), name, key));
      if (key == "shape") shape = reader.numbers(m.value(), name, key);
      if (key == "data_offsets") offsets = reader.numbers(m.value(), name, key);
    }
    try {
      entry.dtype = dtype_of(dtype);
    } catch (const Error& e) {
      fail(path, "tensor '" + name + "': " + e.message());
    }
    uint64_t bytes = at::elementSize(entry.dtype);
    for (double extent : shape) {
      const uint64_t n = exact_count(extent, path, "tensor '" + name + "': a shape entry");
      if (n != 0 && bytes > data_size / n) {
        fail(path, "tensor '" + name + "' is larger than the file's data");
      }
      bytes *= n;
      entry.sizes.push_back(static_cast<int64_t>(n));
    }
    if (offsets.size() != 2) fail(path, "tensor '" + name + "' needs data_offsets [begin, end]");
    entry.begin = exact_count(offsets[0], path, "tensor '" + name + "': an offset");
    entry.end = exact_count(offsets[1], path, "tensor '" + name + "': an offset");
    if (entry.begin > entry.end || entry.end > data_size || entry.end - entry.begin != bytes) {
      fail(path, "tensor '" + name + "' has a byte range that does not fit its shape or the file");
    }
    header.entries.push_back(std::move(entry));
  }
  std::vector<const Entry*> by_offset;
  for (const Entry& e : header.entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  uint64_t covered = 0;
  for (const Entry* e : by_offset) {
    if (e->begin != covered) {
      fail(path, "tensor '" + e->name + "' " +
                     (e->begin < covered ? "overlaps another tensor's bytes"
                                         : "leaves a gap before its bytes"));
    }
    covered = e->end;
  }
  if (covered != data_size) fail(path, "the data section holds bytes no tensor uses");
  return header;
}

}  // namespace

NamedTensors load_safetensors(const std::string& path, Metadata* metadata) {
  return parse_safetensors(read_file_bytes(path), path, metadata);
}

NamedTensors parse_safetensors(std::span<const uint8_t> file, const std::string& path,
                               Metadata* metadata) {
  Header header = parse_header(file, file.size(), path);
  const uint8_t* data = file.data() + 8 + header.length;
  NamedTensors out;
  for (const Entry& entry : header.entries) {
    at::Tensor t = at::empty(entry.sizes, at::TensorOptions().dtype(entry.dtype));
    // An empty tensor has no storage to copy into (memcpy's pointers must not be null).
    if (entry.end > entry.begin)
      std::memcpy(t.data_ptr(), data + entry.begin, entry.end - entry.begin);
    out.emplace_back(entry.name, std::move(t));
  }
  if (metadata != nullptr) *metadata = std::move(header.metadata);
  return out;
}

Metadata load_safetensors_metadata(const std::string& path) {
  // Only the header is read: checkpoints are told apart without loading their tensors.
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) fail(path, "cannot open file");
  uint64_t length = 0;
  std::vector<uint8_t> bytes(8);
  bool ok = std::fread(bytes.data(), 1, 8, file) == 8;
  // (a short or empty file is named by parse_header below)
  if (ok) {
    std::memcpy(&length, bytes.data(), 8);
    ok = length <= (uint64_t(1) << 27);  // 128 MB of JSON is beyond any real header
  }
  if (ok) {
    bytes.resize(8 + length);
    ok = std::fread(bytes.data() + 8, 1, length, file) == length;
  }
  std::fclose(file);
  if (!ok) fail(path, "cannot read a safetensors header");
  // The header's ranges are checked against the data the file really has.
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) fail(path, "cannot read a safetensors header");
  Header header = parse_header(bytes, size, path);
  return std::move(header.metadata);
}

NamedTensors load_weights_file(const std::string& path_or_url) {
  // PaddleDetection's configs name their ImageNet backbones by URL: fetched once, then cached.
  const std::string path = is_url(path_or_url) ? fetch_to_cache(path_or_url) : path_or_url;
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.empty()) throw Error(ErrorLocation{.file = path}, "empty weights file");
  // safetensors: a length, then the JSON header's '{'. torch.save: a zip ("PK") or a pickle.
  if (bytes.size() >= 9 && bytes[8] == '{') return parse_safetensors(bytes, path);
  return parse_torch_state_dict(bytes, path);
}

}  // namespace mrcnn::io
