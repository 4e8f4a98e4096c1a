// Test helper: builds the model of a config and loads `pretrain_weights` style weights.
//   pretrain_tool CONFIG WEIGHTS OUT.safetensors
// Prints the load report and writes the model's resulting weights for comparison.
#include <iostream>

#include "mrcnn/build/model.h"
#include "mrcnn/config/loader.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/weights.h"

int main(int argc, char** argv) {
  using namespace mrcnn;
  if (argc != 4) {
    std::cerr << "usage: pretrain_tool CONFIG WEIGHTS OUT.safetensors\n";
    return 2;
  }
  try {
    modeling::MaskRCNN model(build::model_options(config::load_config(argv[1])));
    const auto report =
        modeling::load_pretrain_weights(*model, io::load_weights_file(argv[2]), argv[2]);
    std::cout << report.summary() << "\n";
    io::NamedTensors state;
    for (const auto& p : model->named_parameters()) state.emplace_back(p.key(), p.value());
    for (const auto& b : model->named_buffers()) state.emplace_back(b.key(), b.value());
    io::save_safetensors(argv[3], state);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
