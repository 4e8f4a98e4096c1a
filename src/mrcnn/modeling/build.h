// Turning the YAML config into model options (modules never see the config).
#pragma once

#include "mrcnn/config/config.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::modeling {

MaskRCNNOptions options_from_config(const config::Config& config);

// Number of output slots including background for the config's label mapping.
int64_t num_model_classes(const config::Config& config);

}  // namespace mrcnn::modeling
