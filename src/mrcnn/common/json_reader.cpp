#include "mrcnn/common/json_reader.h"

#include <cmath>
#include <filesystem>

#include "mrcnn/common/error.h"

namespace mrcnn {

void JsonReader::fail(const std::string& record, const std::string& message) const {
  throw Error(ErrorLocation{.file = file_, .record = record}, message);
}

void JsonReader::fail(const std::string& record, const std::string& field,
                      simdjson::error_code error, od::document& document) const {
  std::string where;
  const char* location = nullptr;
  if (document.current_location().get(location) == simdjson::SUCCESS && location != nullptr) {
    where = " near byte offset " + std::to_string(location - text_.data());
  }
  std::string message = "invalid JSON" + where;
  if (!field.empty()) message += " while reading '" + field + "'";
  message += " (" + std::string(simdjson::error_message(error)) + ")";
  fail(record, message);
}

void JsonReader::type_error(simdjson::error_code error, const std::string& record,
                            std::string_view field, const char* expected) const {
  if (error == simdjson::INCORRECT_TYPE) {
    fail(record, "'" + std::string(field) + "' must be " + expected);
  }
  if (error == simdjson::NUMBER_OUT_OF_RANGE || error == simdjson::NUMBER_ERROR) {
    fail(record, "'" + std::string(field) + "' is not a representable number");
  }
  if (document_ != nullptr) fail(record, std::string(field), error, *document_);
  fail(record, "invalid JSON while reading '" + std::string(field) + "' (" +
                   simdjson::error_message(error) + ")");
}

int64_t JsonReader::integer(od::value value, const std::string& record,
                            std::string_view field) const {
  int64_t out = 0;
  if (const auto error = value.get_int64().get(out); error == simdjson::SUCCESS) return out;
  // Some writers emit integral ids as 3.0; accept those, nothing else.
  double as_double = 0;
  if (value.get_double().get(as_double) == simdjson::SUCCESS) {
    if (std::isfinite(as_double) && std::floor(as_double) == as_double &&
        std::fabs(as_double) < 9.0e15) {
      return static_cast<int64_t>(as_double);
    }
    fail(record, "'" + std::string(field) + "' must be an integer");
  }
  simdjson::error_code error = value.get_int64().error();
  type_error(error, record, field, "an integer");
}

double JsonReader::number(od::value value, const std::string& record,
                          std::string_view field) const {
  double out = 0;
  if (const auto error = value.get_double().get(out); error != simdjson::SUCCESS) {
    type_error(error, record, field, "a number");
  }
  if (!std::isfinite(out)) fail(record, "'" + std::string(field) + "' is not finite");
  return out;
}

bool JsonReader::boolean_or_int(od::value value, const std::string& record,
                                std::string_view field) const {
  bool flag = false;
  if (value.get_bool().get(flag) == simdjson::SUCCESS) return flag;
  const int64_t number = integer(value, record, field);
  if (number != 0 && number != 1) fail(record, "'" + std::string(field) + "' must be 0 or 1");
  return number == 1;
}

std::string_view JsonReader::string(od::value value, const std::string& record,
                                    std::string_view field) const {
  std::string_view out;
  if (const auto error = value.get_string().get(out); error != simdjson::SUCCESS) {
    type_error(error, record, field, "a string");
  }
  return out;
}

std::vector<double> JsonReader::numbers(od::value value, const std::string& record,
                                        std::string_view field) const {
  od::array array;
  if (const auto error = value.get_array().get(array); error != simdjson::SUCCESS) {
    type_error(error, record, field, "a list of numbers");
  }
  std::vector<double> out;
  for (auto element : array) {
    od::value item;
    if (const auto error = element.get(item); error != simdjson::SUCCESS) {
      type_error(error, record, field, "a list of numbers");
    }
    out.push_back(number(item, record, field));
  }
  return out;
}

bool has_trailing_content(od::document& document) {
  const char* location = nullptr;
  return document.current_location().get(location) == simdjson::SUCCESS;
}

simdjson::padded_string read_json_file(const std::string& path) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) {
    throw Error(ErrorLocation{.file = path}, "is a directory, not a JSON file");
  }
  simdjson::padded_string text;
  if (const auto error = simdjson::padded_string::load(path).get(text);
      error != simdjson::SUCCESS) {
    throw Error(ErrorLocation{.file = path},
                std::string("cannot read file (") + simdjson::error_message(error) + ")");
  }
  const std::string_view view(text.data(), text.size());
  if (without_byte_order_mark(view).size() != view.size()) {
    return simdjson::padded_string(without_byte_order_mark(view));
  }
  return text;
}

std::string_view without_byte_order_mark(std::string_view json) {
  // Windows editors save UTF-8 with this prefix; JSON itself has no use for it.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  return json.starts_with(kBom) ? json.substr(kBom.size()) : json;
}

}  // namespace mrcnn
