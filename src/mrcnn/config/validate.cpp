#include "mrcnn/config/validate.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "mrcnn/common/error.h"
#include "mrcnn/common/strings.h"

namespace mrcnn::config {
namespace {

class Problems {
 public:
  void add(const std::string& key, const std::string& message) {
    lines_.push_back("'" + key + "': " + message);
  }

  void one_of(const std::string& key, const std::string& value,
              const std::vector<std::string>& allowed) {
    if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    std::string message = "'" + value + "' is not one of " + join(allowed, ", ");
    if (const std::string guess = closest_match(value, allowed); !guess.empty()) {
      message += " (did you mean '" + guess + "'?)";
    }
    add(key, message);
  }

  template <class T>
  void at_least(const std::string& key, T value, T minimum) {
    if (!(value >= minimum)) add(key, "must be >= " + number(minimum) + ", got " + number(value));
  }

  // Counts that are multiplied by others (epochs by batches per epoch): far beyond any real
  // run, and far below what would overflow.
  void within_count(const std::string& key, int64_t value, int64_t minimum) {
    at_least(key, value, minimum);
    if (value > kMaxCount)
      add(key, "must be at most " + number(kMaxCount) + ", got " + number(value));
  }
  static constexpr int64_t kMaxCount = 1000000000;

  void in_unit_interval(const std::string& key, double value) {
    if (!(value >= 0.0 && value <= 1.0)) add(key, "must be within [0, 1], got " + number(value));
  }

  void positive(const std::string& key, double value) {
    if (!(value > 0.0) || !std::isfinite(value)) add(key, "must be > 0, got " + number(value));
  }

  void raise_if_any() const {
    if (lines_.empty()) return;
    std::string message = "invalid config:";
    for (const auto& line : lines_) message += "\n  " + line;
    throw Error(message);
  }

 private:
  template <class T>
  static std::string number(T value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }

  std::vector<std::string> lines_;
};

const std::vector<std::string> kInterpolations = {"0", "1", "2", "3"};

void check_interp(Problems& p, const std::string& key, int64_t interp) {
  if (interp == 4) {
    p.add(key, "4 (Lanczos) is not supported; use 0 nearest, 1 bilinear, 2 bicubic or 3 area");
  } else {
    p.one_of(key, std::to_string(interp), kInterpolations);
  }
}

void check_target_size(Problems& p, const std::string& key, const std::vector<int64_t>& size) {
  const bool ok = (size.size() == 1 || size.size() == 2) &&
                  std::all_of(size.begin(), size.end(), [](int64_t v) { return v > 0; });
  if (!ok) p.add(key, "each size is [a] or [a, b] of positive pixel counts");
}

void check_dataset(Problems& p, const std::string& key, const DatasetConfig& d, bool training) {
  if (key == "TestDataset") {
    p.one_of(key + ".type", d.type, {"COCODataSet", "ImageFolder"});
  } else {
    p.one_of(key + ".type", d.type, {"COCODataSet"});
  }
  p.in_unit_interval(key + ".empty_ratio", d.empty_ratio);
  static const std::vector<std::string> kFields = {"image", "gt_bbox", "gt_class", "gt_poly",
                                                   "is_crowd"};
  for (const auto& field : d.data_fields) p.one_of(key + ".data_fields", field, kFields);
  if (training) {
    for (const char* needed : {"image", "gt_bbox", "gt_class", "gt_poly"}) {
      if (std::find(d.data_fields.begin(), d.data_fields.end(), needed) == d.data_fields.end())
        p.add(key + ".data_fields", std::string("Mask R-CNN training needs '") + needed + "'");
    }
  }
}

// Decode first, Permute last, at most one of each other kind; evaluation and inference
// readers are deterministic.
void check_reader_transforms(Problems& p, const std::string& key, const ReaderConfig& r,
                             bool training) {
  const auto& list = r.sample_transforms;
  int resizes = 0, flips = 0, normalizes = 0, decodes = 0, permutes = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string item = key + ".sample_transforms[" + std::to_string(i) + "]";
    const SampleTransform& t = list[i];
    if (const auto* op = std::get_if<RandomResizeOp>(&t)) {
      ++resizes;
      if (op->target_size.empty()) p.add(item + ".target_size", "needs at least one size");
      for (const auto& size : op->target_size) check_target_size(p, item + ".target_size", size);
      check_interp(p, item + ".interp", op->interp);
      p.one_of(item + ".size_rounding", op->size_rounding, {"nearest", "floor"});
      if (!training) p.add(item, "RandomResize makes " + key + " random; use Resize");
    } else if (const auto* resize = std::get_if<ResizeOp>(&t)) {
      ++resizes;
      check_target_size(p, item + ".target_size", resize->target_size);
      check_interp(p, item + ".interp", resize->interp);
      p.one_of(item + ".size_rounding", resize->size_rounding, {"nearest", "floor"});
    } else if (const auto* flip = std::get_if<RandomFlipOp>(&t)) {
      ++flips;
      p.in_unit_interval(item + ".prob", flip->prob);
      if (!training) p.add(item, "RandomFlip makes " + key + " random; leave it out");
    } else if (const auto* normalize = std::get_if<NormalizeImageOp>(&t)) {
      ++normalizes;
      if (normalize->mean.size() != 3) p.add(item + ".mean", "needs 3 values (R, G, B)");
      if (normalize->std.size() != 3) p.add(item + ".std", "needs 3 values (R, G, B)");
      for (double s : normalize->std) p.positive(item + ".std", s);
    } else if (std::holds_alternative<DecodeOp>(t)) {
      ++decodes;
      if (i != 0) p.add(item, "Decode must come first");
    } else if (std::holds_alternative<PermuteOp>(t)) {
      ++permutes;
      if (i + 1 != list.size()) p.add(item, "Permute must come last");
    }
  }
  if (decodes != 1) p.add(key + ".sample_transforms", "needs exactly one Decode, first");
  if (permutes > 1) p.add(key + ".sample_transforms", "at most one Permute, last");
  if (resizes > 1) p.add(key + ".sample_transforms", "at most one Resize or RandomResize");
  if (flips > 1) p.add(key + ".sample_transforms", "at most one RandomFlip");
  if (normalizes > 1) p.add(key + ".sample_transforms", "at most one NormalizeImage");
}

void check_reader(Problems& p, const std::string& key, const ReaderConfig& r, bool training) {
  p.at_least<int64_t>(key + ".batch_size", r.batch_size, 1);
  check_reader_transforms(p, key, r, training);
  if (r.batch_transforms.size() > 1) p.add(key + ".batch_transforms", "at most one PadBatch");
  for (const auto& t : r.batch_transforms) {
    p.at_least<int64_t>(key + ".batch_transforms.PadBatch.pad_to_stride",
                        std::get<PadBatchOp>(t).pad_to_stride, -1);
  }
  if (r.collate_batch) {
    p.add(key + ".collate_batch",
          "must be false: Mask R-CNN's images hold different numbers of objects, so their "
          "ground truth stays per image");
  }
  if (!training && r.shuffle) p.add(key + ".shuffle", "must be false (images are scored in order)");
  if (!training && r.drop_last) p.add(key + ".drop_last", "must be false (every image is scored)");
}

void check_schedule(Problems& p, const Config& c) {
  p.positive("LearningRate.base_lr", c.learning_rate.base_lr);
  int piecewise = 0;
  int warmup = 0;
  for (const auto& scheduler : c.learning_rate.schedulers) {
    if (const auto* s = std::get_if<PiecewiseDecay>(&scheduler)) {
      ++piecewise;
      p.positive("LearningRate.schedulers.PiecewiseDecay.gamma", s->gamma);
      for (int64_t m : s->milestones)
        p.within_count("LearningRate.schedulers.PiecewiseDecay.milestones", m, 0);
      if (!std::is_sorted(s->milestones.begin(), s->milestones.end()) ||
          std::adjacent_find(s->milestones.begin(), s->milestones.end()) != s->milestones.end()) {
        p.add("LearningRate.schedulers.PiecewiseDecay.milestones", "must be strictly increasing");
      }
    } else if (const auto* w = std::get_if<LinearWarmup>(&scheduler)) {
      ++warmup;
      if (!(w->start_factor > 0.0 && w->start_factor <= 1.0)) {
        p.add("LearningRate.schedulers.LinearWarmup.start_factor", "must be within (0, 1]");
      }
      p.within_count("LearningRate.schedulers.LinearWarmup.steps", w->steps, 0);
    }
  }
  if (piecewise > 1) p.add("LearningRate.schedulers", "PiecewiseDecay given more than once");
  if (warmup > 1) p.add("LearningRate.schedulers", "LinearWarmup given more than once");

  const auto& builder = c.optimizer_builder;
  p.one_of("OptimizerBuilder.optimizer.type", builder.optimizer.type, {"Momentum", "SGD"});
  if (!(builder.optimizer.momentum >= 0.0 && builder.optimizer.momentum < 1.0)) {
    p.add("OptimizerBuilder.optimizer.momentum", "must be within [0, 1)");
  }
  p.one_of("OptimizerBuilder.regularizer.type", builder.regularizer.type, {"L2"});
  p.at_least("OptimizerBuilder.regularizer.factor", builder.regularizer.factor, 0.0);
  p.at_least("OptimizerBuilder.clip_grad_by_norm", builder.clip_grad_by_norm, 0.0);
}

void check_model(Problems& p, const Config& c) {
  p.one_of("architecture", c.architecture, {"MaskRCNN"});
  p.one_of("metric", c.metric, {"COCO"});
  p.at_least<int64_t>("num_classes", c.num_classes, 1);
  p.one_of("label_map", c.label_map, {"contiguous", "category_id"});
  p.one_of("arithmetic", c.arithmetic, {"paddle", "torchvision"});
  p.one_of("MaskRCNN.backbone", c.mask_rcnn.backbone, {"ResNet"});
  p.one_of("MaskRCNN.neck", c.mask_rcnn.neck, {"FPN"});
  p.one_of("MaskRCNN.rpn_head", c.mask_rcnn.rpn_head, {"RPNHead"});
  p.one_of("MaskRCNN.bbox_head", c.mask_rcnn.bbox_head, {"BBoxHead"});
  p.one_of("MaskRCNN.mask_head", c.mask_rcnn.mask_head, {"MaskHead"});
  p.one_of("MaskRCNN.bbox_post_process", c.mask_rcnn.bbox_post_process, {"BBoxPostProcess"});
  p.one_of("MaskRCNN.mask_post_process", c.mask_rcnn.mask_post_process, {"MaskPostProcess"});

  const auto& r = c.resnet;
  p.one_of("ResNet.depth", std::to_string(r.depth), {"18", "34", "50", "101"});
  p.at_least<int64_t>("ResNet.base_channels", r.base_channels, 1);
  if (r.norm_type == "gn" && r.gn_groups > 0 && r.base_channels % r.gn_groups != 0)
    p.add("ResNet.gn_groups",
          "must divide ResNet.base_channels (" + std::to_string(r.base_channels) + ")");
  p.one_of("ResNet.variant", r.variant, {"a", "b", "c", "d"});
  if (r.lr_mult_list.size() != 4) p.add("ResNet.lr_mult_list", "needs 4 factors (res2..res5)");
  for (double factor : r.lr_mult_list) {
    if (!(factor >= 0)) p.add("ResNet.lr_mult_list", "factors must be >= 0");
  }
  if (r.groups != 1) p.add("ResNet.groups", "ResNeXt (groups > 1) is not offered; use 1");
  if (r.base_width != 64) p.add("ResNet.base_width", "ResNeXt widths are not offered; use 64");
  if (r.dcn_v2_stages != std::vector<int64_t>{-1}) {
    p.add("ResNet.dcn_v2_stages", "deformable convolutions are not offered; use [-1]");
  }
  if (r.std_senet) p.add("ResNet.std_senet", "SENet blocks are not offered; use false");
  if (r.norm_decay != 0) {
    p.add("ResNet.norm_decay", "norm layers get no weight decay here; use 0");
  }
  p.one_of("ResNet.norm_type", r.norm_type, {"bn", "sync_bn", "gn"});
  if (r.freeze_at < -1 || r.freeze_at > 3) p.add("ResNet.freeze_at", "must be within [-1, 3]");
  if (r.num_stages != 4) p.add("ResNet.num_stages", "only 4 stages (res2..res5) are supported");
  const bool fpn_levels = r.return_idx == std::vector<int64_t>{0, 1, 2, 3};
  if (!fpn_levels) p.add("ResNet.return_idx", "the FPN needs [0, 1, 2, 3]");
  p.at_least<int64_t>("ResNet.gn_groups", r.gn_groups, 1);

  p.at_least<int64_t>("FPN.out_channel", c.fpn.out_channel, 1);
  if (c.fpn.has_extra_convs) p.add("FPN.has_extra_convs", "only the max-pool P6 is supported");
  if (c.fpn.extra_stage != 1)
    p.add("FPN.extra_stage", "the recipe uses exactly one extra level (P6)");

  const auto& a = c.rpn_head.anchor_generator;
  if (a.anchor_sizes.size() != a.strides.size() && a.anchor_sizes.size() != 1) {
    p.add("RPNHead.anchor_generator",
          "anchor_sizes needs one entry per level of strides, or one that all levels share");
  }
  if (a.strides.size() != 5) {
    p.add("RPNHead.anchor_generator.strides", "needs 5 levels (P2..P6)");
  }
  for (double ratio : a.aspect_ratios) p.positive("RPNHead.anchor_generator.aspect_ratios", ratio);
  for (const auto& level : a.anchor_sizes) {
    if (level.size() != a.anchor_sizes.front().size()) {
      p.add("RPNHead.anchor_generator.anchor_sizes",
            "every level needs the same number of sizes (the RPN head is shared by the levels)");
    }
    if (level.empty()) p.add("RPNHead.anchor_generator.anchor_sizes", "empty level");
    for (double size : level) p.positive("RPNHead.anchor_generator.anchor_sizes", size);
  }
  if (a.strides != std::vector<double>{4, 8, 16, 32, 64}) {
    p.add("RPNHead.anchor_generator.strides",
          "must be [4, 8, 16, 32, 64], the strides of the FPN levels P2..P6");
  }

  const auto& t = c.rpn_head.rpn_target_assign;
  p.at_least<int64_t>("RPNHead.rpn_target_assign.batch_size_per_im", t.batch_size_per_im, 1);
  p.in_unit_interval("RPNHead.rpn_target_assign.fg_fraction", t.fg_fraction);
  p.in_unit_interval("RPNHead.rpn_target_assign.negative_overlap", t.negative_overlap);
  p.in_unit_interval("RPNHead.rpn_target_assign.positive_overlap", t.positive_overlap);
  if (t.negative_overlap > t.positive_overlap) {
    p.add("RPNHead.rpn_target_assign", "negative_overlap must not exceed positive_overlap");
  }
  for (const auto& [name, proposal] : {std::pair{"train_proposal", c.rpn_head.train_proposal},
                                       std::pair{"test_proposal", c.rpn_head.test_proposal}}) {
    const std::string key = std::string("RPNHead.") + name;
    p.at_least(key + ".min_size", proposal.min_size, 0.0);
    p.in_unit_interval(key + ".nms_thresh", proposal.nms_thresh);
    p.at_least<int64_t>(key + ".pre_nms_top_n", proposal.pre_nms_top_n, 1);
    p.at_least<int64_t>(key + ".post_nms_top_n", proposal.post_nms_top_n, 1);
  }

  for (const auto& [name, extractor] : {std::pair{"BBoxHead", c.bbox_head.roi_extractor},
                                        std::pair{"MaskHead", c.mask_head.roi_extractor}}) {
    const std::string key = std::string(name) + ".roi_extractor";
    p.at_least<int64_t>(key + ".resolution", extractor.resolution, 1);
    p.at_least<int64_t>(key + ".sampling_ratio", extractor.sampling_ratio, 0);
  }
  p.one_of("BBoxHead.head", c.bbox_head.head, {"TwoFCHead"});
  if (c.bbox_head.with_pool) {
    p.add("BBoxHead.with_pool",
          "the C4 model (Res5Head on res4) is not offered; use an FPN config "
          "(mask_rcnn_r50_fpn_*)");
  }
  p.one_of("BBoxHead.bbox_assigner", c.bbox_head.bbox_assigner, {"BBoxAssigner"});
  if (c.bbox_head.bbox_weight.size() != 4) p.add("BBoxHead.bbox_weight", "needs 4 values");
  for (double w : c.bbox_head.bbox_weight) p.positive("BBoxHead.bbox_weight", w);

  const auto& b = c.bbox_assigner;
  p.at_least<int64_t>("BBoxAssigner.batch_size_per_im", b.batch_size_per_im, 1);
  p.in_unit_interval("BBoxAssigner.fg_fraction", b.fg_fraction);
  p.in_unit_interval("BBoxAssigner.fg_thresh", b.fg_thresh);
  p.in_unit_interval("BBoxAssigner.bg_thresh", b.bg_thresh);
  if (b.bg_thresh > b.fg_thresh) p.add("BBoxAssigner", "bg_thresh must not exceed fg_thresh");
  p.at_least<int64_t>("TwoFCHead.out_channel", c.two_fc_head.out_channel, 1);

  p.one_of("BBoxPostProcess.decode", c.bbox_post_process.decode, {"RCNNBox"});
  p.one_of("BBoxPostProcess.nms.name", c.bbox_post_process.nms.type, {"MultiClassNMS"});
  p.at_least<int64_t>("BBoxPostProcess.nms.keep_top_k", c.bbox_post_process.nms.keep_top_k, 1);
  p.in_unit_interval("BBoxPostProcess.nms.score_threshold",
                     c.bbox_post_process.nms.score_threshold);
  p.in_unit_interval("BBoxPostProcess.nms.nms_threshold", c.bbox_post_process.nms.nms_threshold);

  p.one_of("MaskHead.head", c.mask_head.head, {"MaskFeat"});
  p.one_of("MaskHead.mask_assigner", c.mask_head.mask_assigner, {"MaskAssigner"});
  if (c.mask_head.share_bbox_feat)
    p.add("MaskHead.share_bbox_feat", "not supported by the FPN model");
  p.at_least<int64_t>("MaskFeat.num_convs", c.mask_feat.num_convs, 0);
  p.at_least<int64_t>("MaskFeat.out_channel", c.mask_feat.out_channel, 1);
  p.at_least<int64_t>("MaskAssigner.mask_resolution", c.mask_assigner.mask_resolution, 1);
  if (c.mask_assigner.mask_resolution != 2 * c.mask_head.roi_extractor.resolution) {
    p.add("MaskAssigner.mask_resolution",
          "must be twice MaskHead.roi_extractor.resolution (the head upsamples by 2)");
  }
  p.in_unit_interval("MaskPostProcess.binary_thresh", c.mask_post_process.binary_thresh);
}

}  // namespace

void validate(const Config& c) {
  Problems p;
  const int devices = int(c.use_gpu) + int(c.use_xpu) + int(c.use_mlu) + int(c.use_npu);
  if (devices > 1)
    p.add("use_gpu", "at most one of use_gpu, use_xpu, use_mlu, use_npu may be true");
  p.at_least<int64_t>("log_iter", c.log_iter, 1);
  p.at_least<int64_t>("snapshot_epoch", c.snapshot_epoch, 1);
  p.within_count("epoch", c.epoch, 1);
  p.at_least<int64_t>("snapshot_iter", c.snapshot_iter, 0);
  p.one_of("amp_dtype", c.amp_dtype, {"auto", "float16", "bfloat16"});
  p.one_of("train_preprocess", c.train_preprocess, {"auto", "workers", "device"});
  // auto, gloo, nccl, or a collective library that a vendor backend plugin registers (the
  // distributed layer checks the name against what is registered when the group is made).
  if (c.dist_backend.empty() || c.dist_backend.find_first_not_of(
                                    "abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
    p.add("dist_backend",
          "must be auto, gloo, nccl or the name of a collective backend that a "
          "backend plugin registers (lower case), got '" +
              c.dist_backend + "'");
  p.at_least<int64_t>("dist_timeout", c.dist_timeout, 1);
  p.at_least<int64_t>("worker_num", c.worker_num, 0);
  p.at_least<int64_t>("max_image_pixels", c.max_image_pixels, 0);
  if (c.save_dir.empty()) p.add("save_dir", "must not be empty");

  if (c.print_flops) p.add("print_flops", "FLOP counting is not offered; use false");
  const char* always =
      "mrcnn's predictions always come post-processed, with NMS, from unfused "
      "layers; this key only accepts";
  if (!c.export_settings.post_process) p.add("export.post_process", std::string(always) + " true");
  if (!c.export_settings.nms) p.add("export.nms", std::string(always) + " true");
  if (c.export_settings.benchmark) p.add("export.benchmark", std::string(always) + " false");
  if (c.export_settings.fuse_conv_bn) {
    p.add("export.fuse_conv_bn", std::string(always) + " false");
  }

  check_dataset(p, "TrainDataset", c.train_dataset, true);
  check_dataset(p, "EvalDataset", c.eval_dataset, false);
  check_dataset(p, "TestDataset", c.test_dataset, false);
  check_reader(p, "TrainReader", c.train_reader, true);
  check_reader(p, "EvalReader", c.eval_reader, false);
  check_reader(p, "TestReader", c.test_reader, false);
  check_schedule(p, c);
  check_model(p, c);
  p.raise_if_any();
}

}  // namespace mrcnn::config
