// Scalar decoding and emitting for the YAML binding, plus the error helpers.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include "mrcnn/common/error.h"
#include "mrcnn/config/yaml_binding.h"

namespace mrcnn::config::detail {
namespace {

const std::string& require_scalar(const Source& s, const YAML::Node& n, const std::string& path,
                                  const char* what) {
  if (!n.IsScalar()) fail(s, n, path, std::string("expected ") + what);
  return n.Scalar();
}

}  // namespace

void fail(const Source& source, const YAML::Node& node, const std::string& key_path,
          const std::string& message) {
  ErrorLocation where{.file = source.name};
  if (source.has_lines && node.Mark().line >= 0) {
    where.line = node.Mark().line + 1;
    where.column = node.Mark().column + 1;
  }
  throw Error(where, (key_path.empty() ? "" : "'" + key_path + "': ") + message);
}

void fail_unknown_key(const Source& source, const YAML::Node& key_node,
                      const std::string& parent_path, const std::string& key,
                      const std::vector<std::string>& valid) {
  std::string message = "unknown key '" + child_path(parent_path, key) + "'";
  if (const std::string guess = closest_match(key, valid); !guess.empty()) {
    message += " (did you mean '" + guess + "'?)";
  } else if (valid.empty()) {
    message += " (this section takes no keys)";
  } else {
    message += " (valid keys here: " + join(valid, ", ") + ")";
  }
  fail(source, key_node, "", message);
}

void check_unique_keys(const Source& source, const YAML::Node& mapping, const std::string& path) {
  std::map<std::string, YAML::Mark> seen;
  for (const auto& entry : mapping) {
    const std::string key = entry.first.Scalar();
    const auto [it, inserted] = seen.emplace(key, entry.first.Mark());
    if (!inserted) {
      std::string first =
          source.has_lines ? " (first at line " + std::to_string(it->second.line + 1) + ")" : "";
      fail(source, entry.first, "",
           "duplicate key '" + child_path(path, key) + "'" + first + ": give each key once");
    }
  }
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string explicit_tag(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  // yaml-cpp reports "?" / "!" for untagged plain / quoted nodes.
  if (tag.size() > 1 && tag[0] == '!') return tag.substr(1);
  return {};
}

std::string type_name(const Source& s, const YAML::Node& mapping, const std::string& path,
                      const std::string& fallback) {
  const std::string tag = explicit_tag(mapping);
  const YAML::Node name = mapping["name"];
  if (!name) return tag.empty() ? fallback : tag;
  const std::string named = require_scalar(s, name, path + ".name", "a class name");
  if (!tag.empty() && tag != named) {
    fail(s, name, path + ".name", "names '" + named + "' but the tag says '!" + tag + "'");
  }
  return named;
}

void decode(const Source& s, const YAML::Node& n, const std::string& path,
            std::vector<std::vector<double>>& out) {
  if (n.IsSequence() && n.size() > 0 && n[0].IsScalar()) {
    std::vector<double> shared;
    decode(s, n, path, shared);
    out = {shared};
    return;
  }
  decode<std::vector<double>>(s, n, path, out);
}

void decode(const Source& s, const YAML::Node& n, const std::string& path, bool& out) {
  // YAML 1.1 booleans, as PyYAML (and so PaddleDetection) reads them.
  const std::string text = to_lower(require_scalar(s, n, path, "true or false"));
  if (text == "true" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "false" || text == "no" || text == "off") {
    out = false;
  } else {
    fail(s, n, path, "expected true or false, got '" + n.Scalar() + "'");
  }
}

void decode(const Source& s, const YAML::Node& n, const std::string& path, int64_t& out) {
  const std::string& text = require_scalar(s, n, path, "an integer");
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || begin == end) {
    fail(s, n, path, "expected an integer, got '" + text + "'");
  }
  out = value;
}

void decode(const Source& s, const YAML::Node& n, const std::string& path, double& out) {
  const std::string& text = require_scalar(s, n, path, "a number");
  const std::string lowered = to_lower(text);
  if (lowered == ".inf" || lowered == "+.inf") {
    out = HUGE_VAL;
    return;
  }
  if (lowered == "-.inf") {
    out = -HUGE_VAL;
    return;
  }
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  // strtod would also take "nan", "inf" and hex floats; YAML spells those differently.
  const bool plain = text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (text.empty() || !plain || end != text.c_str() + text.size() || errno == ERANGE) {
    fail(s, n, path, "expected a number, got '" + text + "'");
  }
  out = value;
}

void decode(const Source& s, const YAML::Node& n, const std::string& path, std::string& out) {
  if (n.IsNull()) {
    out.clear();  // `pretrain_weights:` with no value means "none"
    return;
  }
  out = require_scalar(s, n, path, "a string");
}

void emit(YAML::Emitter& out, bool value) { out << (value ? "true" : "false"); }

void emit(YAML::Emitter& out, int64_t value) { out << value; }

void emit(YAML::Emitter& out, double value) {
  if (std::isinf(value)) {
    out << (value > 0 ? ".inf" : "-.inf");
    return;
  }
  // Shortest text that reads back to the same double, and always recognisably a float.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  out << text;
}

void emit(YAML::Emitter& out, const std::string& value) {
  if (value.empty()) {
    out << YAML::DoubleQuoted << "";
  } else {
    out << value;
  }
}

}  // namespace mrcnn::config::detail
