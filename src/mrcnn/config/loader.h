// Loading a PaddleDetection-style YAML config into the typed Config.
#pragma once

#include <string>
#include <vector>

#include "mrcnn/config/config.h"

namespace mrcnn::config {

// Reads `path` with its `_BASE_` includes (a string or a list, paths relative to the including
// file, merged in order, then the file itself), applies the `-o key.sub=value` overrides in
// order, and validates the result. Throws mrcnn::Error naming the file, line and key.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

// Applies one YAML file (and its bases) on top of `config`; exposed for tests.
void apply_config_file(Config& config, const std::string& path);

// Applies one `key.sub=value` override; the value is read with the type of the key.
void apply_override(Config& config, const std::string& assignment);

// The merged config as YAML, in the layout of the shipped files (`--print-config`).
std::string to_yaml(const Config& config);

}  // namespace mrcnn::config
