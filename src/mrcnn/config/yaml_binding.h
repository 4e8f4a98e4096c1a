// Binding between YAML nodes and the typed config structs of config.h: decoding (with the
// error messages users see) and emitting. Internal to the config folder.
//
// Merge semantics follow PaddleDetection: mappings merge key by key, everything else
// (scalars, lists, transform and scheduler entries) replaces what was there.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "mrcnn/common/strings.h"

namespace mrcnn::config::detail {

// Where a YAML tree came from, for error messages.
struct Source {
  std::string name;  // a file path, or "-o key=value"
  bool has_lines;    // false when line numbers would only confuse (command-line overrides)
  // List items decoded so far. YAML aliases let a small file name a list of lists millions of
  // times over (a "billion laughs"); no real config comes near the limit.
  mutable std::size_t list_items = 0;
  static constexpr std::size_t kMaxListItems = 1000000;
};

[[noreturn]] void fail(const Source& source, const YAML::Node& node, const std::string& key_path,
                       const std::string& message);

std::string child_path(const std::string& parent, const std::string& key);

// Scalars: strict parsing, so `epoch: 1.5` or `use_gpu: maybe` is an error, not a surprise.
void decode(const Source& s, const YAML::Node& n, const std::string& path, bool& out);
void decode(const Source& s, const YAML::Node& n, const std::string& path, int64_t& out);
void decode(const Source& s, const YAML::Node& n, const std::string& path, double& out);
void decode(const Source& s, const YAML::Node& n, const std::string& path, std::string& out);
// Anchor sizes per level ([[32], [64], ...]); a flat list ([32, 64, ...]) is one entry that
// every level shares, as PaddleDetection's AnchorGenerator broadcasts it.
void decode(const Source& s, const YAML::Node& n, const std::string& path,
            std::vector<std::vector<double>>& out);

void emit(YAML::Emitter& out, bool value);
void emit(YAML::Emitter& out, int64_t value);
void emit(YAML::Emitter& out, double value);
void emit(YAML::Emitter& out, const std::string& value);

// The explicit tag of a node (`!PiecewiseDecay` -> "PiecewiseDecay"), or "".
std::string explicit_tag(const YAML::Node& node);

struct KeyLister {
  std::vector<std::string> keys;
  template <class T>
  void operator()(const char* key, T&) {
    keys.emplace_back(key);
  }
};

template <class T>
concept ConfigStruct = requires(T& value, KeyLister& lister) {
  T::fields(value, lister);
};

template <class T>
struct IsVariant : std::false_type {};
template <class... Ts>
struct IsVariant<std::variant<Ts...>> : std::true_type {};

template <class T>
concept TypedFromTag = ConfigStruct<T> && requires {
  T::kTypeFromTag;
};

template <class T>
std::vector<std::string> keys_of() {
  T probe{};
  KeyLister lister;
  T::fields(probe, lister);
  return lister.keys;
}

// A mapping that names a key twice is an error (PyYAML would silently keep the last value,
// yaml-cpp the first).
void check_unique_keys(const Source& source, const YAML::Node& mapping, const std::string& path);

// The class a typed mapping names, in either of PaddleDetection's spellings: a tag
// (`TrainDataset: !COCODataSet {...}`, releases up to 2.5) or a `name` key
// (`TrainDataset: {name: COCODataSet, ...}`, 2.6 on); `fallback` when it names none. Both
// present and different is an error.
std::string type_name(const Source& source, const YAML::Node& mapping, const std::string& path,
                      const std::string& fallback);

[[noreturn]] void fail_unknown_key(const Source& source, const YAML::Node& key_node,
                                   const std::string& parent_path, const std::string& key,
                                   const std::vector<std::string>& valid);

template <class T>
void decode(const Source& s, const YAML::Node& n, const std::string& path, std::vector<T>& out);
template <ConfigStruct T>
void decode(const Source& s, const YAML::Node& n, const std::string& path, T& out);
template <class... Alternatives>
void decode(const Source& s, const YAML::Node& n, const std::string& path,
            std::variant<Alternatives...>& out);

template <ConfigStruct T>
void decode(const Source& s, const YAML::Node& n, const std::string& path, T& out) {
  if (n.IsNull()) return;  // `Decode: {}` and `Key:` with nothing after it keep the defaults
  if (!n.IsMap()) fail(s, n, path, "expected a mapping of keys to values");
  if constexpr (TypedFromTag<T>) out.type = type_name(s, n, path, out.type);
  const std::vector<std::string> valid = keys_of<T>();
  check_unique_keys(s, n, path);
  for (const auto& entry : n) {
    const std::string key = entry.first.Scalar();
    if constexpr (TypedFromTag<T>) {
      if (key == "name") continue;  // the type, read above
    }
    if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
      fail_unknown_key(s, entry.first, path, key, valid);
    }
  }
  auto assign = [&](const char* key, auto& field) {
    if (const YAML::Node child = n[key]) decode(s, child, child_path(path, key), field);
  };
  T::fields(out, assign);
}

template <class T>
void decode(const Source& s, const YAML::Node& n, const std::string& path, std::vector<T>& out) {
  if (n.IsNull()) {
    out.clear();
    return;
  }
  if (!n.IsSequence()) fail(s, n, path, "expected a list");
  s.list_items += n.size();
  if (s.list_items > Source::kMaxListItems) {
    fail(s, n, path,
         "the config holds more than " + std::to_string(Source::kMaxListItems) +
             " list items (aliases repeating long lists?)");
  }
  std::vector<T> items;
  items.reserve(n.size());
  for (std::size_t i = 0; i < n.size(); ++i) {
    T item{};
    decode(s, n[i], path + "[" + std::to_string(i) + "]", item);
    items.push_back(std::move(item));
  }
  out = std::move(items);
}

template <class... Alternatives>
void decode(const Source& s, const YAML::Node& n, const std::string& path,
            std::variant<Alternatives...>& out) {
  // Two spellings: a tagged mapping (`- !LinearWarmup {steps: 500}`) or a one-key mapping
  // (`- RandomFlip: {prob: 0.5}`).
  std::string name = explicit_tag(n);
  if (name.empty() && (!n.IsMap() || n.size() != 1)) {
    fail(s, n, path, "expected a one-key mapping naming the entry, e.g. `- Name: {...}`");
  }
  if (name.empty()) name = n.begin()->first.Scalar();
  // Bound once: assigning to a yaml-cpp node that refers to another rewrites that other node,
  // which a YAML alias would then see changed.
  const YAML::Node body = explicit_tag(n).empty() ? n.begin()->second : n;
  bool matched = false;
  auto try_alternative = [&]<class Alt>(Alt* /*tag*/) {
    if (matched || name != Alt::kName) return;
    matched = true;
    Alt value{};
    decode(s, body, child_path(path, name), value);
    out = std::move(value);
  };
  (try_alternative(static_cast<Alternatives*>(nullptr)), ...);
  if (!matched) {
    fail_unknown_key(s, n, path, name, std::vector<std::string>{Alternatives::kName...});
  }
}

// ----- emitting (used by --print-config)

template <class T>
void emit(YAML::Emitter& out, const std::vector<T>& values);
template <ConfigStruct T>
void emit(YAML::Emitter& out, const T& value);
template <class... Alternatives>
void emit(YAML::Emitter& out, const std::variant<Alternatives...>& value);

template <class T>
void emit(YAML::Emitter& out, const std::vector<T>& values) {
  constexpr bool flat = std::is_arithmetic_v<T> || std::is_same_v<T, std::string>;
  if (flat) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& v : values) emit(out, v);
  out << YAML::EndSeq;
}

template <ConfigStruct T>
void emit(YAML::Emitter& out, const T& value) {
  if constexpr (TypedFromTag<T>) out << YAML::LocalTag(value.type);
  std::vector<std::string> keys = keys_of<T>();
  if (keys.empty()) {
    out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
    return;
  }
  out << YAML::BeginMap;
  auto put = [&](const char* key, const auto& field) {
    out << YAML::Key << key << YAML::Value;
    emit(out, field);
  };
  T::fields(value, put);
  out << YAML::EndMap;
}

template <class... Alternatives>
void emit(YAML::Emitter& out, const std::variant<Alternatives...>& value) {
  std::visit(
      [&]<class Alt>(const Alt& alt) {
        if constexpr (requires { Alt::kTagged; }) {
          out << YAML::LocalTag(Alt::kName);
          emit(out, alt);
        } else {
          out << YAML::BeginMap << YAML::Key << Alt::kName << YAML::Value;
          emit(out, alt);
          out << YAML::EndMap;
        }
      },
      value);
}

}  // namespace mrcnn::config::detail
