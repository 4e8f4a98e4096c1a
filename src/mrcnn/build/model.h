// The config's model sections as the model's options (modules never see the config).
#pragma once

#include "mrcnn/config/config.h"
#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::build {

modeling::MaskRCNNOptions model_options(const config::Config& config);

}  // namespace mrcnn::build
