#include "mrcnn/engine/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/io/safetensors.h"

namespace mrcnn::engine {
namespace {

constexpr const char* kWeightsSuffix = ".safetensors";
constexpr const char* kStateSuffix = ".state.safetensors";

io::Metadata position_metadata(const TrainerPosition& p) {
  return {{"format", "pt"},
          {"mrcnn.epoch", std::to_string(p.epoch)},
          {"mrcnn.batch", std::to_string(p.batch)},
          {"mrcnn.iteration", std::to_string(p.iteration)},
          {"mrcnn.best_ap", fmt::format("{}", p.best_ap)},
          {"mrcnn.best_epoch", std::to_string(p.best_epoch)}};
}

std::string find(const io::Metadata& metadata, const std::string& key, const std::string& file) {
  for (const auto& [k, v] : metadata) {
    if (k == key) return v;
  }
  throw Error(ErrorLocation{.file = file}, "not a training checkpoint: no '" + key + "' entry");
}

}  // namespace

std::string checkpoint_stem(const std::string& path) {
  for (const std::string suffix : {kStateSuffix, kWeightsSuffix}) {
    if (path.ends_with(suffix)) return path.substr(0, path.size() - suffix.size());
  }
  return path;
}

io::NamedTensors model_state(torch::nn::Module& model) {
  io::NamedTensors tensors;
  for (const auto& p : model.named_parameters(true)) tensors.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) tensors.emplace_back(b.key(), b.value());
  return tensors;
}

void save_checkpoint(const std::string& stem, torch::nn::Module& model,
                     const io::NamedTensors& state, const TrainerPosition& position) {
  create_directories(std::filesystem::path(stem).parent_path().string());
  const io::Metadata metadata = position_metadata(position);
  // State first: a crash between the two renames leaves new state beside old weights, which
  // load_checkpoint refuses, instead of new weights beside a stale state that would look valid.
  io::save_safetensors(stem + kStateSuffix, state, metadata);
  io::save_safetensors(stem + kWeightsSuffix, model_state(model), metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string stem = checkpoint_stem(path);
  const std::string weights_file = stem + kWeightsSuffix, state_file = stem + kStateSuffix;
  for (const auto& file : {weights_file, state_file}) {
    if (!std::filesystem::exists(file))
      throw Error(ErrorLocation{.file = file}, "checkpoint file not found");
  }
  Checkpoint checkpoint;
  io::Metadata weights_metadata, state_metadata;
  checkpoint.weights = io::load_safetensors(weights_file, &weights_metadata);
  checkpoint.state = io::load_safetensors(state_file, &state_metadata);
  const std::string a = find(weights_metadata, "mrcnn.iteration", weights_file);
  const std::string b = find(state_metadata, "mrcnn.iteration", state_file);
  if (a != b) {
    throw Error(ErrorLocation{.file = stem}, "incomplete checkpoint: weights from iteration " + a +
                                                 ", state from iteration " + b +
                                                 " (was the run stopped while saving?)");
  }
  auto number = [&](const std::string& key) { return find(state_metadata, key, state_file); };
  checkpoint.position.epoch = std::stoll(number("mrcnn.epoch"));
  checkpoint.position.batch = std::stoll(number("mrcnn.batch"));
  checkpoint.position.iteration = std::stoll(number("mrcnn.iteration"));
  checkpoint.position.best_ap = std::stod(number("mrcnn.best_ap"));
  checkpoint.position.best_epoch = std::stoll(number("mrcnn.best_epoch"));
  return checkpoint;
}

}  // namespace mrcnn::engine
