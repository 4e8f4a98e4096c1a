// Typed configuration of the whole toolkit, with PaddleDetection's key names and the defaults
// of the mask_rcnn_r50_fpn_1x_coco recipe.
//
// Every struct lists its keys once, in `fields(self, visit)`. The YAML loader, the printer and
// the key-suggestion logic all walk that list, so a key exists in exactly one place. Modules
// never see these structs; builders turn them into module options.
#pragma once

#include <cstdint>
#include <string>

#include "mrcnn/config/dataset_config.h"
#include "mrcnn/config/model_config.h"
#include "mrcnn/config/reader_config.h"
#include "mrcnn/config/solver_config.h"

namespace mrcnn::config {

// runtime.yml's `export:` (PaddleDetection's tools/export_model.py). mrcnn has no export step:
// its predictions (infer, eval, the C++ API) always come out post-processed, with NMS, from
// unfused layers -- what these defaults describe -- so only they are accepted.
struct ExportConfig {
  bool post_process = true;
  bool nms = true;
  bool benchmark = false;
  bool fuse_conv_bn = false;
  template <class Self, class Visit>
  static void fields(Self& s, Visit& v) {
    v("post_process", s.post_process);
    v("nms", s.nms);
    v("benchmark", s.benchmark);
    v("fuse_conv_bn", s.fuse_conv_bn);
  }
};

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
  bool print_flops = false;   // FLOP counting is not offered: only false is accepted
  bool print_params = false;  // train prints every parameter's name, shape and the totals
  ExportConfig export_settings;
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
  // Our extension: images with more pixels are refused from their header, before decoding (a
  // small file can claim a huge image). PIL's default; 0: no limit.
  int64_t max_image_pixels = 178956970;

  std::string architecture = "MaskRCNN";
  std::string metric = "COCO";
  int64_t num_classes = 80;
  // Our extension: how model labels map to category ids. "contiguous": label k is the k-th
  // category by id (PaddleDetection, detectron2); "category_id": label == category id, with
  // num_classes + 1 slots (torchvision's COCO models: 91).
  std::string label_map = "contiguous";
  // Our extension: whose arithmetic the model follows where PaddleDetection and torchvision
  // differ (anchors, box losses, detection filtering, mask pasting: modeling/arithmetic.h).
  // "paddle" reproduces PaddleDetection, so its own configs behave as there; the torchvision
  // config says "torchvision".
  std::string arithmetic = "paddle";
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
    v("export", s.export_settings);
    v("seed", s.seed);
    v("snapshot_iter", s.snapshot_iter);
    v("amp_dtype", s.amp_dtype);
    v("dist_backend", s.dist_backend);
    v("dist_timeout", s.dist_timeout);
    v("cudnn_benchmark", s.cudnn_benchmark);
    v("channels_last", s.channels_last);
    v("train_preprocess", s.train_preprocess);
    v("max_image_pixels", s.max_image_pixels);
    v("architecture", s.architecture);
    v("metric", s.metric);
    v("num_classes", s.num_classes);
    v("label_map", s.label_map);
    v("arithmetic", s.arithmetic);
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
