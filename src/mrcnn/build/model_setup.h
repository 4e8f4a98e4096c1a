// Building the model a job (or the C++ API) runs: options from the config, weights from a file,
// on a device, in eval mode.
#pragma once

#include <c10/core/Device.h>

#include <ostream>
#include <string>

#include "mrcnn/config/config.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::build {

// `path`, else the config's `weights`; a missing extension may be .safetensors or .pth; an
// http(s) URL is kept (loading fetches it into the weights cache).
std::string resolve_weights_path(const std::string& path, const config::Config& config);

// notes: where the report of the loaded weights goes (nullptr: nowhere).
modeling::MaskRCNN load_model(const config::Config& config, const std::string& weights_path,
                              const c10::Device& device, std::ostream* notes = nullptr);

}  // namespace mrcnn::build
