// Typed access to simdjson on-demand values with error messages that name the file, the
// record and the field. Shared by the COCO annotation and results readers.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mrcnn {

namespace od = simdjson::ondemand;

class JsonReader {
 public:
  JsonReader(std::string file, const simdjson::padded_string& text)
      : file_(std::move(file)), text_(text) {}

  const std::string& file() const { return file_; }

  // Throws mrcnn::Error "<file>: <record>: <message>".
  [[noreturn]] void fail(const std::string& record, const std::string& message) const;
  // For errors from simdjson itself: syntax errors get the byte offset of `document`.
  [[noreturn]] void fail(const std::string& record, const std::string& field,
                         simdjson::error_code error, od::document& document) const;

  // Each reads one value and checks its type; `record` and `field` only feed messages.
  int64_t integer(od::value value, const std::string& record, std::string_view field) const;
  double number(od::value value, const std::string& record, std::string_view field) const;
  bool boolean_or_int(od::value value, const std::string& record, std::string_view field) const;
  std::string_view string(od::value value, const std::string& record, std::string_view field) const;
  std::vector<double> numbers(od::value value, const std::string& record,
                              std::string_view field) const;

  // The document being read, for the byte offset of syntax errors.
  void set_document(od::document* document) { document_ = document; }

 private:
  [[noreturn]] void type_error(simdjson::error_code error, const std::string& record,
                               std::string_view field, const char* expected) const;

  std::string file_;
  const simdjson::padded_string& text_;
  od::document* document_ = nullptr;
};

// True when something other than whitespace follows the value just read.
bool has_trailing_content(od::document& document);

// The value of a simdjson result, or an mrcnn::Error naming the record (and, for syntax
// errors, the byte offset in `document`).
template <class T>
T checked(simdjson::simdjson_result<T> result, const JsonReader& reader, const std::string& record,
          od::document& document) {
  T value;
  if (const auto error = std::move(result).get(value); error != simdjson::SUCCESS) {
    reader.fail(record, "", error, document);
  }
  return value;
}

// Loads a whole file into simdjson's padded buffer, without a UTF-8 byte order mark; throws
// mrcnn::Error naming the file.
simdjson::padded_string read_json_file(const std::string& path);

// `json` less a leading UTF-8 byte order mark.
std::string_view without_byte_order_mark(std::string_view json);

}  // namespace mrcnn
