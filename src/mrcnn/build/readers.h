// A reader section (TrainReader, EvalReader, TestReader) as the one preprocessing's options.
#pragma once

#include "mrcnn/config/reader_config.h"
#include "mrcnn/data/transforms.h"

namespace mrcnn::build {

data::TransformOptions transform_options(const config::ReaderConfig& reader);

}  // namespace mrcnn::build
