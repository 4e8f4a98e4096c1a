#include "mrcnn/common/json_writer.h"

#include <fmt/format.h>

#include <cmath>

namespace mrcnn {

std::string json_number(double value) {
  if (std::isnan(value)) return "null";
  if (std::isinf(value)) return value > 0 ? "1e999" : "-1e999";
  return fmt::format("{}", value);  // shortest text that reads back to the same double
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

JsonObject& JsonObject::key(std::string_view name) {
  if (text_.size() > 1) text_ += ", ";
  text_ += '"';
  text_ += json_escape(name);
  text_ += "\": ";
  return *this;
}

JsonObject& JsonObject::add(std::string_view name, double value) {
  key(name).text_ += json_number(value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view name, int64_t value) {
  key(name).text_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view name, bool value) {
  key(name).text_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::add(std::string_view name, std::string_view text) {
  key(name).text_ += "\"" + json_escape(text) + "\"";
  return *this;
}

JsonObject& JsonObject::add_raw(std::string_view name, std::string_view json) {
  key(name).text_ += json;
  return *this;
}

}  // namespace mrcnn
