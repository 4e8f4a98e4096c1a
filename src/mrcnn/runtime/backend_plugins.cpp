#include "mrcnn/runtime/backend_plugins.h"

#include <c10/core/DeviceType.h>
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
    const bool registered_before = c10::is_privateuse1_backend_registered();
    // RTLD_GLOBAL: the plugin's kernels and device guards must be visible to LibTorch.
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      const char* why = dlerror();
      throw Error(ErrorLocation{.file = path}, std::string("cannot load backend plugin named in "
                                                           "MRCNN_BACKEND_PLUGINS: ") +
                                                   (why ? why : "unknown error"));
    }
    if (!registered_before && !c10::is_privateuse1_backend_registered()) {
      throw Error(ErrorLocation{.file = path},
                  "named in MRCNN_BACKEND_PLUGINS, loaded, but registered no device backend "
                  "(a vendor backend names its device with "
                  "c10::register_privateuse1_backend when it loads)");
    }
    loaded.push_back(path);
  }
  return loaded;
}

bool backend_supports_float16() {
  using Query = bool (*)();
  auto* query = reinterpret_cast<Query>(dlsym(RTLD_DEFAULT, "mrcnn_backend_supports_float16"));
  return query != nullptr && query();
}

}  // namespace mrcnn::runtime
