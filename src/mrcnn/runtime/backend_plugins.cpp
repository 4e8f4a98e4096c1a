#include "mrcnn/runtime/backend_plugins.h"

#include <dlfcn.h>

#include <cstdlib>

#include "mrcnn/common/error.h"
#include "mrcnn/common/strings.h"

namespace mrcnn::runtime {

std::vector<std::string> load_backend_plugins_from_environment() {
  std::vector<std::string> loaded;
  const char* list = std::getenv("MRCNN_BACKEND_PLUGINS");
  if (list == nullptr) return loaded;
  for (const std::string& path : split(list, ':')) {
    if (path.empty()) continue;
    // RTLD_GLOBAL: the plugin's kernels and device guards must be visible to LibTorch.
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char* why = dlerror();
      throw Error(ErrorLocation{.file = path}, std::string("cannot load backend plugin named in "
                                                           "MRCNN_BACKEND_PLUGINS: ") +
                                                   (why ? why : "unknown error"));
    }
    loaded.push_back(path);
  }
  return loaded;
}

}  // namespace mrcnn::runtime
