// Out-of-tree device backends (PrivateUse1 plugins such as those for NPUs or MLUs) register
// their device type when their shared library is loaded. MRCNN_BACKEND_PLUGINS lists such
// libraries (colon-separated); they are loaded before any device string is parsed.
#pragma once

#include <string>
#include <vector>

namespace mrcnn::runtime {

// Loads every library named in MRCNN_BACKEND_PLUGINS; returns their paths.
// Throws mrcnn::Error naming the library that failed to load.
std::vector<std::string> load_backend_plugins_from_environment();

}  // namespace mrcnn::runtime
