// Whose arithmetic the model follows where PaddleDetection and torchvision differ. The
// architecture and the weights are the same; these are the small choices that decide whether
// our detections and losses equal one reference or the other to the last digits.
//
//   where                    paddle (PaddleDetection 2.7)        torchvision
//   cell anchors             exact, sqrt(area / ratio)            rounded to integers
//   anchor strides           the configured ones (4 .. 64)        padded size // feature size
//   proposals                under max(min_size, 1) px dropped    under min_size dropped
//   RPN low-quality matches  a ground truth's best anchors,       ... even at IoU 0
//                            when their IoU is above 0
//   RPN losses               BCE and L1, summed, divided by       BCE and smooth L1 (beta
//                            batch_size_per_im x images           1/9), divided by the
//                                                                 sampled anchors
//   box-head box loss        L1                                   smooth L1 (beta 1/9)
//   mask targets             polygons rasterised within each      the image-size mask
//                            RoI (COCO's rasteriser)              cropped by RoIAlign
//   detections               no size filter before NMS; after     boxes under 0.01 px
//                            rescaling, empty boxes are dropped   dropped before NMS
//   mask pasting             bilinear sampling at pixel centres   the mask resized to its
//                            (grid_sample), kept at >= thresh     integer box, kept at > thresh
//
// Either way the configured RoIAlign, proposal and NMS settings apply (the shipped configs
// set each reference's own). Images are decoded as each reference decodes them too
// (build::decode_options: OpenCV's EXIF orientation and alpha for paddle).
#pragma once

namespace mrcnn::modeling {

enum class Arithmetic { kPaddle, kTorchvision };

}  // namespace mrcnn::modeling
