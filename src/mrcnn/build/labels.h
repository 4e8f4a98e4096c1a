// The label map of a config against a dataset's categories (structures/label_map.h has the
// one rule), and the categories inference reports in.
#pragma once

#include "mrcnn/coco/dataset.h"
#include "mrcnn/config/config.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::build {

structures::LabelMap label_map(const config::Config& config, const coco::Dataset& dataset);

// What inference reports in: the categories (and image ids by file name) of
// TestDataset.anno_path when that file exists, else num_classes unnamed categories.
struct InferenceCategories {
  coco::Dataset dataset;  // empty when there is no annotation file
  structures::LabelMap labels;
};
InferenceCategories inference_categories(const config::Config& config);

}  // namespace mrcnn::build
