// Checks on the merged config that a single key cannot check alone: allowed values, ranges
// and relations between keys.
#pragma once

#include "mrcnn/config/config.h"

namespace mrcnn::config {

// Throws mrcnn::Error listing every problem found, each naming its key.
void validate(const Config& config);

}  // namespace mrcnn::config
