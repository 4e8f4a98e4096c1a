// Building the model a command needs: options from the config, weights from a file, device.
#pragma once

#include <c10/core/Device.h>

#include <string>

#include "mrcnn/config/config.h"
#include "mrcnn/data/coco.h"
#include "mrcnn/evaluation/evaluator.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::cli {

// --weights, else the config's `weights`; a missing extension may be ".pth".
std::string resolve_weights_path(const std::string& option, const config::Config& config);

// quiet: no report of the loaded weights (ranks other than 0).
modeling::MaskRCNN load_model(const config::Config& config, const std::string& weights_path,
                              const c10::Device& device, bool quiet = false);

}  // namespace mrcnn::cli
