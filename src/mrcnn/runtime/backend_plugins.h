// Out-of-tree device backends (PrivateUse1 plugins such as those for NPUs or MLUs) register
// their device type when their shared library is loaded. MRCNN_BACKEND_PLUGINS lists such
// libraries (colon-separated); they are loaded before any device string is parsed.
#pragma once

#include <string>
#include <vector>

namespace mrcnn::runtime {

// Loads every library named in MRCNN_BACKEND_PLUGINS; returns their paths.
// Throws mrcnn::Error naming the library that failed to load, or that loaded but registered no
// device backend (a typo'd path to some other library).
std::vector<std::string> load_backend_plugins_from_environment();

// Whether the loaded backend says that it computes in float16, through the C function
// `bool mrcnn_backend_supports_float16()` a plugin may export. Without it, no: bfloat16 is the
// mixed precision that vendor accelerators have in common.
bool backend_supports_float16();

}  // namespace mrcnn::runtime
