// From the model's raw detections to what users get: boxes in the original image, and each
// mask pasted into the image, thresholded and RLE-encoded within its box only (so memory does
// not grow with the image or the detection count). The thresholds belong here, in the model's
// options, not with the callers.
#pragma once

#include "mrcnn/modeling/arithmetic.h"
#include "mrcnn/structures/image_list.h"
#include "mrcnn/structures/instances.h"

namespace mrcnn::modeling {

struct PostprocessOptions {
  // MaskPostProcess.binary_thresh: a pixel is in when above it (torchvision), or at or above
  // it (paddle).
  double mask_threshold = 0.5;
  bool operator==(const PostprocessOptions&) const = default;
};

// raw: one image's detections in resized coordinates with mask_probs (RoIHeads::inference).
// Detections scoring below min_score are dropped before their masks are pasted. The result is
// on the CPU: boxes, scores and labels, image_size = original, mask_rles at that size.
// torchvision: boxes scaled by original / resized, masks resized into their integer boxes.
// paddle: boxes divided by resized / original, clipped to the image, empty ones dropped;
// masks sampled at the pixel centres (ops/paste_masks_sampled.h).
structures::Instances postprocess(const structures::Instances& raw, structures::ImageSize original,
                                  const PostprocessOptions& options, double min_score = 0,
                                  Arithmetic arithmetic = Arithmetic::kTorchvision);

}  // namespace mrcnn::modeling
