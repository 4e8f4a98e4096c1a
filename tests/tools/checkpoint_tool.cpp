// Test helper for the crash tests of checkpoint saving:
//   checkpoint_tool save STEM ITERATION   saves a small model whose every weight, and every
//                                         optimiser tensor, is ITERATION, at that iteration
//   checkpoint_tool load STEM             prints "<iteration> <weight> <state>" of the pair
//                                         loading picks (a consistent pair prints one number
//                                         three times)
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include <iostream>
#include <string>

#include "mrcnn/engine/checkpoint.h"

using namespace mrcnn;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "save" && argc == 4) {
      const int64_t iteration = std::stoll(argv[3]);
      torch::nn::Linear model(64, 32);
      for (auto& p : model->parameters()) p.data().fill_(static_cast<double>(iteration));
      const io::NamedTensors state = {
          {"momentum", at::full({256}, static_cast<double>(iteration))}};
      engine::save_checkpoint(argv[2], *model, state,
                              {.epoch = 1, .batch = 0, .iteration = iteration});
      return 0;
    }
    if (mode == "load" && argc == 3) {
      const engine::Checkpoint c = engine::load_checkpoint(argv[2]);
      std::cout << c.position.iteration << " " << c.weights.at(0).second.max().item<double>() << " "
                << c.state.at(0).second.min().item<double>() << "\n";
      return 0;
    }
    std::cerr << "usage: checkpoint_tool save STEM ITERATION | load STEM\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
