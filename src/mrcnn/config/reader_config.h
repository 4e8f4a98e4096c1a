// The reader sections of a config (TrainReader, EvalReader, TestReader): the image transforms
// and batch settings.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mrcnn::config {

// Transforms are one-key maps (`- RandomFlip: {prob: 0.5}`), batch settings beside. A reader
// lists Decode first, Permute (if at all) last, and in between at most one resize (Resize or
// RandomResize), one RandomFlip and one NormalizeImage, which are applied as decode -> resize
// -> flip -> normalise whatever their order (they commute). `interp` takes OpenCV's codes, as
// PaddleDetection: 0 nearest, 1 bilinear, 2 bicubic, 3 area (4, Lanczos, is rejected).
// `size_rounding` (ours) picks how a kept-ratio size is rounded to whole pixels: "nearest" as
// PaddleDetection (int(scale * side + 0.5): 480x640 at 800 px -> 800x1067), "floor" as
// torchvision's detection transform (800x1066).

struct DecodeOp {
  static constexpr const char* kName = "Decode";
  template <class Self, class Visit>
  static void fields(Self&, Visit&) {}
};

struct RandomResizeOp {
  static constexpr const char* kName = "RandomResize";
  // One entry is drawn per image. With keep_ratio: [a, b] scales the short side to min(a, b)
  // with the long side at most max(a, b) ([a] is [a, a]); without: [height, width].
  std::vector<std::vector<int64_t>> target_size = {{640, 1333}, {672, 1333}, {704, 1333},
                                                   {736, 1333}, {768, 1333}, {800, 1333}};
  int64_t interp = 2;
  bool keep_ratio = true;
  std::string size_rounding = "nearest";
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("target_size", s.target_size);
    v("interp", s.interp);
    v("keep_ratio", s.keep_ratio);
    v("size_rounding", s.size_rounding);
  }
};

struct ResizeOp {
  static constexpr const char* kName = "Resize";
  std::vector<int64_t> target_size = {800, 1333};  // as one RandomResize entry
  int64_t interp = 2;
  bool keep_ratio = true;
  std::string size_rounding = "nearest";
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("target_size", s.target_size);
    v("interp", s.interp);
    v("keep_ratio", s.keep_ratio);
    v("size_rounding", s.size_rounding);
  }
};

struct RandomFlipOp {
  static constexpr const char* kName = "RandomFlip";
  double prob = 0.5;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("prob", s.prob);
  }
};

struct NormalizeImageOp {
  static constexpr const char* kName = "NormalizeImage";
  bool is_scale = true;  // mean/std are in 0..1 units when true, 0..255 otherwise
  std::vector<double> mean = {0.485, 0.456, 0.406};
  std::vector<double> std = {0.229, 0.224, 0.225};
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("is_scale", s.is_scale);
    v("mean", s.mean);
    v("std", s.std);
  }
};

struct PermuteOp {
  static constexpr const char* kName = "Permute";
  template <class Self, class Visit>
  static void fields(Self&, Visit&) {}
};

struct PadBatchOp {
  static constexpr const char* kName = "PadBatch";
  int64_t pad_to_stride = 32;  // <= 0 (PaddleDetection writes -1): to the batch's largest only
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("pad_to_stride", s.pad_to_stride);
  }
};

using SampleTransform =
    std::variant<DecodeOp, RandomResizeOp, ResizeOp, RandomFlipOp, NormalizeImageOp, PermuteOp>;
using BatchTransform = std::variant<PadBatchOp>;

struct ReaderConfig {
  std::vector<SampleTransform> sample_transforms;
  std::vector<BatchTransform> batch_transforms;
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;
  // PaddleDetection's: collate the ground truth into batch tensors. Mask R-CNN's images have
  // different object counts, so only false (ground truth per image) is accepted.
  bool collate_batch = false;
  // PaddleDetection's: worker processes hand batches over in shared memory. Our workers are
  // threads of one process, so batches are always shared, whichever value is given.
  bool use_shared_memory = false;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("sample_transforms", s.sample_transforms);
    v("batch_transforms", s.batch_transforms);
    v("batch_size", s.batch_size);
    v("shuffle", s.shuffle);
    v("drop_last", s.drop_last);
    v("collate_batch", s.collate_batch);
    v("use_shared_memory", s.use_shared_memory);
  }
};

}  // namespace mrcnn::config
