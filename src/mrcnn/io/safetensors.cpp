#include "mrcnn/io/safetensors.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cstring>
#include <map>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/json_reader.h"
#include "mrcnn/common/json_writer.h"
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
    std::memcpy(out, t.data_ptr(), t.nbytes());
    out += t.nbytes();
  }
  write_file_atomically(path, bytes);
}

NamedTensors load_safetensors(const std::string& path, Metadata* metadata) {
  return parse_safetensors(read_file_bytes(path), path, metadata);
}

NamedTensors parse_safetensors(std::span<const uint8_t> file, const std::string& path,
                               Metadata* metadata) {
  auto fail = [&](const std::string& message) -> void {
    throw Error(ErrorLocation{.file = path}, message);
  };
  if (file.size() < 8) fail("too short for a safetensors file");
  uint64_t header_size = 0;
  std::memcpy(&header_size, file.data(), 8);
  if (header_size > file.size() - 8) fail("header length exceeds the file");
  const simdjson::padded_string text(reinterpret_cast<const char*>(file.data() + 8), header_size);
  const uint8_t* data = file.data() + 8 + header_size;
  const uint64_t data_size = file.size() - 8 - header_size;

  JsonReader reader(path, text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(text).get(doc) != simdjson::SUCCESS) fail("unreadable header");
  reader.set_document(&doc);
  NamedTensors out;
  simdjson::ondemand::object root = checked(doc.get_object(), reader, "header", doc);
  for (auto field : root) {
    simdjson::ondemand::field f = checked(std::move(field), reader, "header", doc);
    const std::string name(checked(f.unescaped_key(), reader, "header", doc));
    simdjson::ondemand::object entry = checked(f.value().get_object(), reader, name, doc);
    if (name == "__metadata__") {
      for (auto item : entry) {
        simdjson::ondemand::field m = checked(std::move(item), reader, name, doc);
        const std::string key(checked(m.unescaped_key(), reader, name, doc));
        const std::string value(reader.string(m.value(), name, key));
        if (metadata != nullptr) metadata->emplace_back(key, value);
      }
      continue;
    }
    std::string dtype;
    std::vector<double> shape, offsets;
    for (auto item : entry) {
      simdjson::ondemand::field m = checked(std::move(item), reader, name, doc);
      const std::string_view key = checked(m.unescaped_key(), reader, name, doc);
      if (key == "dtype") dtype = std::string(reader.string(m.value(), name, key));
      if (key == "shape") shape = reader.numbers(m.value(), name, key);
      if (key == "data_offsets") offsets = reader.numbers(m.value(), name, key);
    }
    std::vector<int64_t> sizes(shape.begin(), shape.end());
    at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(dtype_of(dtype)));
    if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > double(data_size) ||
        uint64_t(offsets[1] - offsets[0]) != t.nbytes()) {
      fail("tensor '" + name + "' has a byte range that does not fit its shape or the file");
    }
    std::memcpy(t.data_ptr(), data + uint64_t(offsets[0]), t.nbytes());
    out.emplace_back(name, t);
  }
  return out;
}

NamedTensors load_weights_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  // safetensors: a length, then the JSON header's '{'. torch.save: a zip ("PK") or a pickle.
  if (bytes.size() >= 9 && bytes[8] == '{') return parse_safetensors(bytes, path);
  return parse_torch_state_dict(bytes, path);
}

}  // namespace mrcnn::io
