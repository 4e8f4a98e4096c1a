// A binary mask's outlines as COCO polygons, for clients that want vertices rather than RLE.
// Each outline runs along pixel edges (corners at integer coordinates), so a pixel inside an
// outline is a pixel of the mask: nothing is smoothed away or added. COCO polygons cannot
// carry holes, so only outer outlines are returned; an object with holes comes back filled.
#pragma once

#include <vector>

#include "mrcnn/coco/rle.h"

namespace mrcnn::coco {

// One polygon [x0, y0, x1, y1, ...] per 4-connected part of the mask, vertices only where the
// outline turns, parts in the order their top-left pixels come in row-major order.
std::vector<std::vector<double>> rle_to_polygons(const Rle& rle);

}  // namespace mrcnn::coco
