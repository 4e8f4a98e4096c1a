// Typed configuration of the whole toolkit, with PaddleDetection's key names and the defaults
// of the mask_rcnn_r50_fpn_1x_coco recipe.
//
// Every struct lists its keys once, in `fields(self, visit)`. The YAML loader, the printer and
// the key-suggestion logic all walk that list, so a key exists in exactly one place. Modules
// never see these structs; builders turn them into module options.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace mrcnn::config {

// ---------------------------------------------------------------------------------------------
// Datasets

// `TrainDataset: !COCODataSet {...}`: the YAML tag names the dataset class and lands in `type`.
struct DatasetConfig {
  static constexpr bool kTypeFromTag = true;
  std::string type = "COCODataSet";  // COCODataSet | ImageFolder
  std::string dataset_dir = "dataset/coco";
  std::string image_dir;
  std::string anno_path;
  std::vector<std::string> data_fields;
  bool allow_empty = false;  // keep images without annotations (training skips them otherwise)
  double empty_ratio = 1.0;  // PaddleDetection: fraction of empty images kept when allowed

  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("dataset_dir", s.dataset_dir);
    v("image_dir", s.image_dir);
    v("anno_path", s.anno_path);
    v("data_fields", s.data_fields);
    v("allow_empty", s.allow_empty);
    v("empty_ratio", s.empty_ratio);
  }
};

// ---------------------------------------------------------------------------------------------
// Readers: transforms are one-key maps (`- RandomFlip: {prob: 0.5}`), batch settings beside.

struct DecodeOp {
  static constexpr const char* kName = "Decode";
  template <class Self, class Visit>
  static void fields(Self&, Visit&) {}
};

struct RandomResizeOp {
  static constexpr const char* kName = "RandomResize";
  // Each entry is [short_side, max_long_side]; one is drawn per image.
  std::vector<std::vector<int64_t>> target_size = {{640, 1333}, {672, 1333}, {704, 1333},
                                                   {736, 1333}, {768, 1333}, {800, 1333}};
  int64_t interp = 2;  // 1 = bilinear (cv2.INTER_LINEAR), 2 = bicubic (cv2.INTER_CUBIC)
  bool keep_ratio = true;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("target_size", s.target_size);
    v("interp", s.interp);
    v("keep_ratio", s.keep_ratio);
  }
};

struct ResizeOp {
  static constexpr const char* kName = "Resize";
  std::vector<int64_t> target_size = {800, 1333};  // [short_side, max_long_side]
  int64_t interp = 2;
  bool keep_ratio = true;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("target_size", s.target_size);
    v("interp", s.interp);
    v("keep_ratio", s.keep_ratio);
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
  int64_t pad_to_stride = 32;
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
  bool collate_batch = false;
  bool use_shared_memory = false;  // accepted for compatibility; threads share memory anyway
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

// ---------------------------------------------------------------------------------------------
// Optimisation

struct PiecewiseDecay {
  static constexpr const char* kName = "PiecewiseDecay";
  static constexpr bool kTagged =
      true;  // written `- !PiecewiseDecay {...}` as PaddleDetection does
  double gamma = 0.1;
  std::vector<int64_t> milestones = {8, 11};  // epochs, or iterations with use_iters
  bool use_iters = false;                     // our extension: milestones count iterations
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("gamma", s.gamma);
    v("milestones", s.milestones);
    v("use_iters", s.use_iters);
  }
};

struct LinearWarmup {
  static constexpr const char* kName = "LinearWarmup";
  static constexpr bool kTagged = true;
  double start_factor = 0.001;
  int64_t steps = 1000;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("start_factor", s.start_factor);
    v("steps", s.steps);
  }
};

using Scheduler = std::variant<PiecewiseDecay, LinearWarmup>;

struct LearningRateConfig {
  double base_lr = 0.01;
  std::vector<Scheduler> schedulers = {PiecewiseDecay{}, LinearWarmup{}};
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("base_lr", s.base_lr);
    v("schedulers", s.schedulers);
  }
};

struct OptimizerConfig {
  std::string type = "Momentum";
  double momentum = 0.9;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("type", s.type);
    v("momentum", s.momentum);
  }
};

struct RegularizerConfig {
  std::string type = "L2";
  double factor = 0.0001;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("type", s.type);
    v("factor", s.factor);
  }
};

struct OptimizerBuilderConfig {
  double clip_grad_by_norm = 0.0;  // 0 disables clipping
  OptimizerConfig optimizer;
  RegularizerConfig regularizer;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("clip_grad_by_norm", s.clip_grad_by_norm);
    v("optimizer", s.optimizer);
    v("regularizer", s.regularizer);
  }
};

// ---------------------------------------------------------------------------------------------
// Model

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
  std::string variant = "b";     // 'b': stride on the 3x3 conv (torchvision, detectron2)
  std::string norm_type = "bn";  // bn | sync_bn | gn
  bool freeze_norm = true;       // BN affine + statistics as constants (FrozenBatchNorm)
  int64_t freeze_at = 0;  // index into res2..res5; stem and stages <= this are frozen; -1: none
  std::vector<int64_t> return_idx = {0, 1, 2, 3};
  int64_t num_stages = 4;
  int64_t gn_groups = 32;  // our extension: groups when norm_type is gn
  // Our extension: stem channels (stage widths are 1, 2, 4, 8 times this); 64 is standard.
  int64_t base_channels = 64;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("depth", s.depth);
    v("variant", s.variant);
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
  std::vector<double> strides = {4, 8, 16, 32, 64};
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
  double min_size = 0.0;
  double nms_thresh = 0.7;
  int64_t pre_nms_top_n = 1000;   // per FPN level
  int64_t post_nms_top_n = 1000;  // per image
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
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("head", s.head);
    v("roi_extractor", s.roi_extractor);
    v("bbox_assigner", s.bbox_assigner);
    v("bbox_weight", s.bbox_weight);
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

// ---------------------------------------------------------------------------------------------
// The whole file

struct Config {
  // Runtime (PaddleDetection's runtime.yml). GPU use is opt-in (`-o use_gpu=true`) so that the
  // same command runs on any machine; `--device` on the command line overrides all of these.
  bool use_gpu = false;
  bool use_xpu = false;
  bool use_mlu = false;
  bool use_npu = false;
  std::string device;  // our extension: "cpu", "cuda:1", ...; empty: decided by use_* flags
  int64_t log_iter = 20;
  std::string save_dir = "output";
  int64_t snapshot_epoch = 1;
  bool print_flops = false;
  bool print_params = false;
  int64_t seed = 0;  // our extension: seeds weights init, sampling and augmentation
  // Our extensions for training: also checkpoint ("last") every this many iterations (0: off),
  // and the mixed-precision type of --amp (auto: float16 on CUDA, bfloat16 elsewhere).
  int64_t snapshot_iter = 0;
  std::string amp_dtype = "auto";
  // Our extensions for multi-process runs: the c10d backend (auto: gloo on CPU, nccl on CUDA)
  // and how long a collective may wait for the other ranks before the run stops, in seconds.
  std::string dist_backend = "auto";
  int64_t dist_timeout = 600;
  // Our extensions for speed on GPUs: cuDNN picks the fastest convolution algorithm for each
  // new input size (measured once per size), and the model computes in NHWC memory order.
  bool cudnn_benchmark = true;
  bool channels_last = false;
  // Where training images are resized, flipped, normalised and padded: "workers" (the loader's
  // threads), "device" (the training device; workers only decode) or "auto" (device on GPUs).
  std::string train_preprocess = "auto";

  std::string architecture = "MaskRCNN";
  std::string metric = "COCO";
  int64_t num_classes = 80;
  // Our extension: how model labels map to category ids. "contiguous": label k is the k-th
  // category by id (PaddleDetection, detectron2); "category_id": label == category id, with
  // num_classes + 1 slots (torchvision's COCO models: 91).
  std::string label_map = "contiguous";
  int64_t epoch = 12;
  std::string weights;
  std::string pretrain_weights;
  int64_t worker_num = 2;

  DatasetConfig train_dataset{
      .type = "COCODataSet",
      .dataset_dir = "dataset/coco",
      .image_dir = "train2017",
      .anno_path = "annotations/instances_train2017.json",
      .data_fields = {"image", "gt_bbox", "gt_class", "gt_poly", "is_crowd"}};
  DatasetConfig eval_dataset{.type = "COCODataSet",
                             .dataset_dir = "dataset/coco",
                             .image_dir = "val2017",
                             .anno_path = "annotations/instances_val2017.json"};
  DatasetConfig test_dataset{.type = "ImageFolder",
                             .dataset_dir = "dataset/coco",
                             .anno_path = "annotations/instances_val2017.json"};
  ReaderConfig train_reader;
  ReaderConfig eval_reader;
  ReaderConfig test_reader;

  LearningRateConfig learning_rate;
  OptimizerBuilderConfig optimizer_builder;

  MaskRCNNConfig mask_rcnn;
  ResNetConfig resnet;
  FPNConfig fpn;
  RPNHeadConfig rpn_head;
  BBoxHeadConfig bbox_head;
  BBoxAssignerConfig bbox_assigner;
  TwoFCHeadConfig two_fc_head;
  BBoxPostProcessConfig bbox_post_process;
  MaskHeadConfig mask_head;
  MaskFeatConfig mask_feat;
  MaskAssignerConfig mask_assigner;
  MaskPostProcessConfig mask_post_process;

  // Not a YAML key: the top-level config file's name without extension; output goes to
  // `<save_dir>/<config_name>/`.
  std::string config_name;

  Config();  // fills the reader transform lists with the recipe's defaults

  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("use_gpu", s.use_gpu);
    v("use_xpu", s.use_xpu);
    v("use_mlu", s.use_mlu);
    v("use_npu", s.use_npu);
    v("device", s.device);
    v("log_iter", s.log_iter);
    v("save_dir", s.save_dir);
    v("snapshot_epoch", s.snapshot_epoch);
    v("print_flops", s.print_flops);
    v("print_params", s.print_params);
    v("seed", s.seed);
    v("snapshot_iter", s.snapshot_iter);
    v("amp_dtype", s.amp_dtype);
    v("dist_backend", s.dist_backend);
    v("dist_timeout", s.dist_timeout);
    v("cudnn_benchmark", s.cudnn_benchmark);
    v("channels_last", s.channels_last);
    v("train_preprocess", s.train_preprocess);
    v("architecture", s.architecture);
    v("metric", s.metric);
    v("num_classes", s.num_classes);
    v("label_map", s.label_map);
    v("epoch", s.epoch);
    v("weights", s.weights);
    v("pretrain_weights", s.pretrain_weights);
    v("worker_num", s.worker_num);
    v("TrainDataset", s.train_dataset);
    v("EvalDataset", s.eval_dataset);
    v("TestDataset", s.test_dataset);
    v("TrainReader", s.train_reader);
    v("EvalReader", s.eval_reader);
    v("TestReader", s.test_reader);
    v("LearningRate", s.learning_rate);
    v("OptimizerBuilder", s.optimizer_builder);
    v("MaskRCNN", s.mask_rcnn);
    v("ResNet", s.resnet);
    v("FPN", s.fpn);
    v("RPNHead", s.rpn_head);
    v("BBoxHead", s.bbox_head);
    v("BBoxAssigner", s.bbox_assigner);
    v("TwoFCHead", s.two_fc_head);
    v("BBoxPostProcess", s.bbox_post_process);
    v("MaskHead", s.mask_head);
    v("MaskFeat", s.mask_feat);
    v("MaskAssigner", s.mask_assigner);
    v("MaskPostProcess", s.mask_post_process);
  }
};

}  // namespace mrcnn::config
