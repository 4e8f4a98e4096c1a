#include "mrcnn/config/loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mrcnn/common/error.h"
#include "mrcnn/config/validate.h"
#include "mrcnn/config/yaml_binding.h"

namespace mrcnn::config {
namespace fs = std::filesystem;
namespace {

constexpr const char* kBaseKey = "_BASE_";

struct Include {
  fs::path file;
  std::string included_from;  // "parent.yml:3" or "" for the top file
};

YAML::Node parse_file(const Include& include) {
  const std::string from =
      include.included_from.empty() ? "" : " (included from " + include.included_from + ")";
  std::error_code error;
  if (fs::is_directory(include.file, error)) {
    throw Error(ErrorLocation{.file = include.file.string()},
                "is a directory, not a config file" + from);
  }
  std::ifstream stream(include.file);
  if (!stream) {
    throw Error(ErrorLocation{.file = include.file.string()}, "cannot open config file" + from);
  }
  try {
    return YAML::Load(stream);
  } catch (const YAML::ParserException& e) {
    throw Error(
        ErrorLocation{
            .file = include.file.string(), .line = e.mark.line + 1, .column = e.mark.column + 1},
        "YAML syntax error: " + e.msg);
  }
}

std::vector<std::pair<std::string, YAML::Node>> base_entries(const detail::Source& source,
                                                             const YAML::Node& base) {
  std::vector<std::pair<std::string, YAML::Node>> entries;
  if (base.IsScalar()) {
    entries.emplace_back(base.Scalar(), base);
  } else if (base.IsSequence()) {
    for (const auto& item : base) {
      if (!item.IsScalar()) detail::fail(source, item, kBaseKey, "expected a file path");
      entries.emplace_back(item.Scalar(), item);
    }
  } else if (!base.IsNull()) {
    detail::fail(source, base, kBaseKey, "expected a file path or a list of file paths");
  }
  return entries;
}

void apply_file(Config& config, const Include& include, std::vector<fs::path>& chain) {
  const fs::path canonical = fs::weakly_canonical(include.file);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    if (chain[i] == canonical) {
      std::string cycle;
      for (std::size_t j = i; j < chain.size(); ++j) cycle += chain[j].filename().string() + " -> ";
      throw Error(ErrorLocation{.file = include.included_from},
                  "config include cycle: " + cycle + canonical.filename().string());
    }
  }
  const YAML::Node root = parse_file(include);
  const detail::Source source{.name = include.file.string(), .has_lines = true};
  if (root.IsNull()) return;  // an empty file is a valid, empty config
  if (!root.IsMap()) detail::fail(source, root, "", "a config file must be a mapping of keys");

  detail::check_unique_keys(source, root, "");
  chain.push_back(canonical);
  YAML::Node own(YAML::NodeType::Map);
  for (const auto& entry : root) {
    if (entry.first.Scalar() != kBaseKey) {
      own[entry.first] = entry.second;
      continue;
    }
    for (const auto& [relative, node] : base_entries(source, entry.second)) {
      const std::string from = include.file.string() + ":" + std::to_string(node.Mark().line + 1);
      apply_file(config, Include{include.file.parent_path() / relative, from}, chain);
    }
  }
  chain.pop_back();
  detail::decode(source, own, "", config);
}

}  // namespace

void apply_config_file(Config& config, const std::string& path) {
  std::vector<fs::path> chain;
  apply_file(config, Include{path, ""}, chain);
}

void apply_override(Config& config, const std::string& assignment) {
  const detail::Source source{.name = "-o " + assignment, .has_lines = false};
  const std::size_t equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw Error(ErrorLocation{.file = source.name}, "expected key=value, e.g. -o use_gpu=true");
  }
  const std::string key = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);

  // Lists and mappings are written in YAML flow style (`[1, 2]`); anything else is taken
  // verbatim so that values such as `a:b` or `#1` need no quoting on the command line.
  YAML::Node value;
  if (!text.empty() && (text.front() == '[' || text.front() == '{' || text.front() == '!')) {
    try {
      value = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      throw Error(ErrorLocation{.file = source.name}, "cannot read the value as YAML: " + e.msg);
    }
  } else {
    value = YAML::Node(text);
  }

  // Build {a: {b: {c: value}}} and decode it like a file, so type checks and key suggestions
  // are exactly those of config files.
  const std::vector<std::string> parts = split(key, '.');
  for (const std::string& part : parts) {
    if (part.empty()) {
      throw Error(ErrorLocation{.file = source.name}, "empty component in key '" + key + "'");
    }
  }
  // Built inside out into fresh nodes (assigning to a node that refers to another would
  // rewrite that one).
  std::vector<YAML::Node> levels(parts.size() + 1);
  levels.back() = value;
  for (std::size_t i = parts.size(); i-- > 0;) {
    levels[i] = YAML::Node(YAML::NodeType::Map);
    levels[i][parts[i]] = levels[i + 1];
  }
  detail::decode(source, levels.front(), "", config);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Config config;
  apply_config_file(config, path);
  for (const auto& assignment : overrides) apply_override(config, assignment);
  config.config_name = fs::path(path).stem().string();
  validate(config);
  return config;
}

std::string to_yaml(const Config& config) {
  YAML::Emitter out;
  out.SetIndent(2);
  detail::emit(out, config);
  return std::string(out.c_str()) + "\n";
}

}  // namespace mrcnn::config
