// Writing JSON by hand where a document is streamed or its layout matters (results files,
// metrics lines, safetensors headers): numbers that read back to the same double, escaped
// strings, and a one-line object builder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mrcnn {

// The shortest text that reads back to the same double; NaN is null, infinities 1e999.
std::string json_number(double value);
std::string json_escape(std::string_view text);

// {"key": value, "key": value}: one line, keys in the order added.
class JsonObject {
 public:
  JsonObject& add(std::string_view key, double value);
  JsonObject& add(std::string_view key, int64_t value);
  JsonObject& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonObject& add(std::string_view key, bool value);
  JsonObject& add(std::string_view key, std::string_view text);  // written as a string
  JsonObject& add(std::string_view key, const char* text) {
    return add(key, std::string_view(text));
  }
  // `json` is already JSON (a list, an object, a number) and is written as it is.
  JsonObject& add_raw(std::string_view key, std::string_view json);

  std::string str() const { return text_ + "}"; }

 private:
  JsonObject& key(std::string_view key);
  std::string text_ = "{";
};

}  // namespace mrcnn
