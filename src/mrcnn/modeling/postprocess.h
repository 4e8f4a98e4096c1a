// From the model's raw detections to what users get: boxes in the original image, and each
// mask pasted into the image, thresholded and RLE-encoded within its box only (so memory does
// not grow with the image or the detection count). The thresholds belong here, in the model's
// options, not with the callers.
#pragma once

#include "mrcnn/structures/image_list.h"
#include "mrcnn/structures/instances.h"

namespace mrcnn::modeling {

struct PostprocessOptions {
  double mask_threshold = 0.5;  // MaskPostProcess.binary_thresh: a pixel is in when above it
  bool operator==(const PostprocessOptions&) const = default;
};

// raw: one image's detections in resized coordinates with mask_probs (RoIHeads::inference).
// Detections scoring below min_score are dropped before their masks are pasted. The result is
// on the CPU: boxes, scores and labels, image_size = original, mask_rles at that size.
structures::Instances postprocess(const structures::Instances& raw, structures::ImageSize original,
                                  const PostprocessOptions& options, double min_score = 0);

}  // namespace mrcnn::modeling
