// `mrcnn convert-weights IN OUT.safetensors`: a torch.save state dict, a paddle.save
// .pdparams or a safetensors file into our weights format: torchvision's old key names renamed
// to current ones, PaddleDetection's names and layouts mapped onto ours.
#include <iostream>
#include <memory>

#include "commands.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/paddle_names.h"
#include "mrcnn/modeling/weights.h"

namespace mrcnn::cli {

void add_convert_weights_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "convert-weights", "Convert a PyTorch state dict or Paddle .pdparams to safetensors");
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  command
      ->add_option("input", *input,
                   "a torch.save(model.state_dict()) or paddle.save(layer.state_dict()) file")
      ->required();
  command->add_option("output", *output, "the .safetensors file to write")->required();
  command->callback([&exit_code, input, output] {
    io::NamedTensors tensors = io::load_weights_file(*input);
    if (modeling::uses_paddle_names(tensors)) {
      std::vector<std::string> unknown;
      tensors = modeling::from_paddle_names(tensors, &unknown);
      std::cout << "PaddleDetection names mapped onto mrcnn's";
      if (!unknown.empty()) {
        std::cout << "; " << unknown.size() << " not known, kept as they are:";
        for (const std::string& name : unknown) std::cout << " " << name;
      }
      std::cout << "\n";
    }
    for (auto& [name, tensor] : tensors) name = modeling::canonical_key(name);
    io::save_safetensors(*output, tensors, {{"source", *input}, {"format", "pt"}});
    std::cout << "wrote " << tensors.size() << " tensors to " << *output << "\n";
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
