#include "mrcnn/config/config.h"

namespace mrcnn::config {

Config::Config() {
  // PaddleDetection's mask_fpn_reader.yml.
  train_reader.sample_transforms = {DecodeOp{}, RandomResizeOp{}, RandomFlipOp{},
                                    NormalizeImageOp{}, PermuteOp{}};
  train_reader.batch_transforms = {PadBatchOp{}};
  train_reader.batch_size = 1;
  train_reader.shuffle = true;
  train_reader.drop_last = true;

  eval_reader.sample_transforms = {DecodeOp{}, ResizeOp{}, NormalizeImageOp{}, PermuteOp{}};
  eval_reader.batch_transforms = {PadBatchOp{}};
  test_reader = eval_reader;
}

}  // namespace mrcnn::config
