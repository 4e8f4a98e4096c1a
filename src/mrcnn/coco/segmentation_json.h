// Pieces of the COCO json reader shared by the annotation and the results readers.
#pragma once

#include <string>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/common/json_reader.h"

namespace mrcnn::coco::detail {

namespace od = simdjson::ondemand;

using mrcnn::checked;

// A "segmentation" value: a list of polygons (each at least 3 points, an even number of
// finite coordinates) or an RLE object with "size" and string or list "counts". With
// decode_compressed false, a compressed RLE's string is kept in undecoded_counts.
void parse_segmentation(od::value value, const JsonReader& reader, od::document& doc,
                        const std::string& where, Segmentation& segmentation,
                        bool decode_compressed = true);

}  // namespace mrcnn::coco::detail
