// Training checkpoints, in two files beside each other:
//   <name>.safetensors        the model's weights (torchvision key names; eval, infer and
//                             Python read it as it is)
//   <name>.state.safetensors  optimiser momentum, loss scaler and the trainer's position
// Both carry the save they belong to. A save writes the new pair completely under other names
// first, keeps the old pair reachable (as <name>.prev.*) while the current names are replaced,
// and flushes files and folder at each step: wherever a crash stops it, the folder holds a
// consistent pair -- the old one or the new one -- and loading takes the newest such pair.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "mrcnn/io/tensor_dict.h"

namespace mrcnn::engine {

struct TrainerPosition {
  int64_t epoch = 0;      // epoch to run next
  int64_t batch = 0;      // batch of that epoch to run next
  int64_t iteration = 0;  // steps done so far
  double best_ap = -1;    // best bbox AP of --eval so far (-1: none)
  int64_t best_epoch = -1;
};

struct Checkpoint {
  io::NamedTensors weights;
  io::NamedTensors state;  // optimiser and scaler tensors
  TrainerPosition position;
  std::pair<std::string, std::string> files;  // the weights and state files it came from
};

// `path` is the checkpoint's stem (output/x/3) or either of its files.
std::string checkpoint_stem(const std::string& path);

void save_checkpoint(const std::string& stem, torch::nn::Module& model,
                     const io::NamedTensors& state, const TrainerPosition& position);
// The newest consistent pair of the checkpoint (after an interrupted save, the old one).
Checkpoint load_checkpoint(const std::string& path);

struct CheckpointFound {
  std::string stem;  // e.g. output/x/last
  int64_t iteration = 0;
};
// The checkpoint in `dir` that is furthest along (the newest consistent pair of each name;
// best_model, a copy of a snapshot, is not a candidate); nothing when `dir` holds none. This is
// where --auto_resume and an elastic restart continue from.
std::optional<CheckpointFound> newest_checkpoint(const std::string& dir);

// The model's parameters and buffers by name (a state dict).
io::NamedTensors model_state(torch::nn::Module& model);

}  // namespace mrcnn::engine
