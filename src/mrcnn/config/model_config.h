// The model sections of a config (MaskRCNN, ResNet, FPN, RPNHead, ... MaskPostProcess).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mrcnn::config {

struct MaskRCNNConfig {
  std::string backbone = "ResNet";
  std::string neck = "FPN";
  std::string rpn_head = "RPNHead";
  std::string bbox_head = "BBoxHead";
  std::string mask_head = "MaskHead";
  std::string bbox_post_process = "BBoxPostProcess";
  std::string mask_post_process = "MaskPostProcess";
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("backbone", s.backbone);
    v("neck", s.neck);
    v("rpn_head", s.rpn_head);
    v("bbox_head", s.bbox_head);
    v("mask_head", s.mask_head);
    v("bbox_post_process", s.bbox_post_process);
    v("mask_post_process", s.mask_post_process);
  }
};

struct ResNetConfig {
  int64_t depth = 50;
  // PaddleDetection's variants: 'b' strides on a bottleneck's 3x3 conv (torchvision,
  // detectron2), 'a' on its first 1x1 conv (the original ResNet); 'c' is b with a stem of three
  // 3x3 convs, 'd' is c whose downsampling shortcuts average-pool before their 1x1 conv
  // (ResNet-vd, "Bag of Tricks").
  std::string variant = "b";
  // A learning-rate factor for each of res2..res5's parameters (PaddleDetection's ssld
  // fine-tuning uses [0.05, 0.05, 0.1, 0.15]).
  std::vector<double> lr_mult_list = {1.0, 1.0, 1.0, 1.0};
  // Accepted at their PaddleDetection defaults only: ResNeXt (groups, base_width), deformable
  // convolutions (dcn_v2_stages), SENet blocks (std_senet) and decay on norm layers
  // (norm_decay) are not offered.
  int64_t groups = 1;
  int64_t base_width = 64;
  std::vector<int64_t> dcn_v2_stages = {-1};
  bool std_senet = false;
  double norm_decay = 0.0;
  // bn | sync_bn | gn. sync_bn is bn whose batch statistics are averaged over the processes
  // of a data-parallel run (in one process it is bn; frozen, it has no statistics to share).
  std::string norm_type = "bn";
  bool freeze_norm = true;  // norm layers' affine (and BN's statistics) are constants
  int64_t freeze_at = 0;    // index into res2..res5; stem and stages <= this are frozen; -1: none
  std::vector<int64_t> return_idx = {0, 1, 2, 3};
  int64_t num_stages = 4;
  int64_t gn_groups = 32;  // our extension: groups when norm_type is gn
  // Our extension: stem channels (stage widths are 1, 2, 4, 8 times this); 64 is standard.
  int64_t base_channels = 64;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("depth", s.depth);
    v("variant", s.variant);
    v("lr_mult_list", s.lr_mult_list);
    v("groups", s.groups);
    v("base_width", s.base_width);
    v("dcn_v2_stages", s.dcn_v2_stages);
    v("std_senet", s.std_senet);
    v("norm_decay", s.norm_decay);
    v("norm_type", s.norm_type);
    v("freeze_norm", s.freeze_norm);
    v("freeze_at", s.freeze_at);
    v("return_idx", s.return_idx);
    v("num_stages", s.num_stages);
    v("gn_groups", s.gn_groups);
    v("base_channels", s.base_channels);
  }
};

struct FPNConfig {
  int64_t out_channel = 256;
  bool has_extra_convs = false;  // false: P6 is a stride-2 max-pool of P5
  int64_t extra_stage = 1;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("out_channel", s.out_channel);
    v("has_extra_convs", s.has_extra_convs);
    v("extra_stage", s.extra_stage);
  }
};

struct AnchorGeneratorConfig {
  std::vector<double> aspect_ratios = {0.5, 1.0, 2.0};
  std::vector<std::vector<double>> anchor_sizes = {{32}, {64}, {128}, {256}, {512}};
  std::vector<double> strides = {4, 8, 16, 32, 64};  // those of P2..P6: the only ones accepted
  double offset = 0.0;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("aspect_ratios", s.aspect_ratios);
    v("anchor_sizes", s.anchor_sizes);
    v("strides", s.strides);
    v("offset", s.offset);
  }
};

struct RPNTargetAssignConfig {
  int64_t batch_size_per_im = 256;
  double fg_fraction = 0.5;
  double negative_overlap = 0.3;
  double positive_overlap = 0.7;
  bool use_random = true;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("batch_size_per_im", s.batch_size_per_im);
    v("fg_fraction", s.fg_fraction);
    v("negative_overlap", s.negative_overlap);
    v("positive_overlap", s.positive_overlap);
    v("use_random", s.use_random);
  }
};

struct ProposalConfig {
  // Proposals narrower or lower than this (pixels) are dropped; zero-area ones always are.
  double min_size = 0.0;
  double nms_thresh = 0.7;
  int64_t pre_nms_top_n = 1000;   // per FPN level, before NMS
  int64_t post_nms_top_n = 1000;  // per image, after NMS
  // false: each level also keeps at most post_nms_top_n after its NMS, before the per-image
  // cut; true: only the per-image cut (PaddleDetection's ProposalGenerator).
  bool topk_after_collect = false;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("min_size", s.min_size);
    v("nms_thresh", s.nms_thresh);
    v("pre_nms_top_n", s.pre_nms_top_n);
    v("post_nms_top_n", s.post_nms_top_n);
    v("topk_after_collect", s.topk_after_collect);
  }
};

struct RPNHeadConfig {
  AnchorGeneratorConfig anchor_generator;
  RPNTargetAssignConfig rpn_target_assign;
  ProposalConfig train_proposal{.min_size = 0.0,
                                .nms_thresh = 0.7,
                                .pre_nms_top_n = 2000,
                                .post_nms_top_n = 1000,
                                .topk_after_collect = true};
  ProposalConfig test_proposal;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("anchor_generator", s.anchor_generator);
    v("rpn_target_assign", s.rpn_target_assign);
    v("train_proposal", s.train_proposal);
    v("test_proposal", s.test_proposal);
  }
};

struct RoIExtractorConfig {
  int64_t resolution = 7;
  int64_t sampling_ratio = 0;  // 0: adaptive, ceil(bin size) samples per bin
  bool aligned = true;  // half-pixel offset (PaddleDetection, detectron2); torchvision: false
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("resolution", s.resolution);
    v("sampling_ratio", s.sampling_ratio);
    v("aligned", s.aligned);
  }
};

struct BBoxHeadConfig {
  std::string head = "TwoFCHead";
  RoIExtractorConfig roi_extractor;
  std::string bbox_assigner = "BBoxAssigner";
  std::vector<double> bbox_weight = {10.0, 10.0, 5.0, 5.0};
  bool with_pool = false;  // the C4 model's Res5Head pooling: not offered (FPN models only)
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("head", s.head);
    v("roi_extractor", s.roi_extractor);
    v("bbox_assigner", s.bbox_assigner);
    v("bbox_weight", s.bbox_weight);
    v("with_pool", s.with_pool);
  }
};

struct BBoxAssignerConfig {
  int64_t batch_size_per_im = 512;
  double bg_thresh = 0.5;
  double fg_thresh = 0.5;
  double fg_fraction = 0.25;
  bool use_random = true;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("batch_size_per_im", s.batch_size_per_im);
    v("bg_thresh", s.bg_thresh);
    v("fg_thresh", s.fg_thresh);
    v("fg_fraction", s.fg_fraction);
    v("use_random", s.use_random);
  }
};

struct TwoFCHeadConfig {
  int64_t out_channel = 1024;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("out_channel", s.out_channel);
  }
};

struct MultiClassNMSConfig {
  static constexpr bool kTypeFromTag = true;  // `nms: {name: MultiClassNMS, ...}`
  std::string type = "MultiClassNMS";
  int64_t keep_top_k = 100;
  double score_threshold = 0.05;
  double nms_threshold = 0.5;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("keep_top_k", s.keep_top_k);
    v("score_threshold", s.score_threshold);
    v("nms_threshold", s.nms_threshold);
  }
};

struct BBoxPostProcessConfig {
  std::string decode = "RCNNBox";
  MultiClassNMSConfig nms;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("decode", s.decode);
    v("nms", s.nms);
  }
};

struct MaskHeadConfig {
  std::string head = "MaskFeat";
  RoIExtractorConfig roi_extractor{.resolution = 14, .sampling_ratio = 0, .aligned = true};
  std::string mask_assigner = "MaskAssigner";
  bool share_bbox_feat = false;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("head", s.head);
    v("roi_extractor", s.roi_extractor);
    v("mask_assigner", s.mask_assigner);
    v("share_bbox_feat", s.share_bbox_feat);
  }
};

struct MaskFeatConfig {
  int64_t num_convs = 4;
  int64_t out_channel = 256;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("num_convs", s.num_convs);
    v("out_channel", s.out_channel);
  }
};

struct MaskAssignerConfig {
  int64_t mask_resolution = 28;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("mask_resolution", s.mask_resolution);
  }
};

struct MaskPostProcessConfig {
  double binary_thresh = 0.5;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("binary_thresh", s.binary_thresh);
  }
};

}  // namespace mrcnn::config
