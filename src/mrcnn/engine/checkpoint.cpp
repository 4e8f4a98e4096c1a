#include "mrcnn/engine/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <random>
#include <set>

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

namespace {

// The files of a checkpoint: the current pair, the previous one kept during a save, and the
// new one written before it replaces the current names.
struct Pair {
  std::string weights, state;
};
Pair current(const std::string& stem) { return {stem + kWeightsSuffix, stem + kStateSuffix}; }
Pair previous(const std::string& stem) {
  return {stem + ".prev" + kWeightsSuffix, stem + ".prev" + kStateSuffix};
}
Pair incoming(const std::string& stem) {
  return {stem + ".new" + kWeightsSuffix, stem + ".new" + kStateSuffix};
}

// The save a file belongs to, "<iteration>-<random>" (empty when the file is missing or
// unreadable). Checkpoints written before saves had ids are told apart by iteration alone.
std::string save_of(const std::string& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) return {};
  try {
    std::string iteration;
    for (const auto& [key, value] : io::load_safetensors_metadata(file)) {
      if (key == "mrcnn.save") return value;
      if (key == "mrcnn.iteration") iteration = value;
    }
    return iteration;
  } catch (const Error&) {
  }
  return {};
}

// The iteration a pair was saved at, when both files belong to the same save.
std::optional<int64_t> pair_iteration(const Pair& pair) {
  const std::string save = save_of(pair.weights);
  if (save.empty() || save != save_of(pair.state)) return std::nullopt;
  return std::stoll(save.substr(0, save.find('-')));
}

// The newest consistent pair among the checkpoint's files; a save interrupted between its two
// renames leaves one under mixed names (incoming weights, current state).
std::optional<Pair> newest_pair(const std::string& stem) {
  const Pair now = current(stem), before = previous(stem), next = incoming(stem);
  std::optional<Pair> chosen;
  int64_t chosen_iteration = -1;
  for (const Pair& candidate : {now, Pair{next.weights, now.state}, next, before}) {
    const std::optional<int64_t> iteration = pair_iteration(candidate);
    if (iteration && *iteration > chosen_iteration) {
      chosen = candidate;
      chosen_iteration = *iteration;
    }
  }
  return chosen;
}

std::string new_save_id(const TrainerPosition& position) {
  std::random_device entropy;
  return fmt::format("{}-{:016x}", position.iteration,
                     (uint64_t(entropy()) << 32) ^ uint64_t(entropy()));
}

void remove_file(const std::string& path) {
  std::error_code error;
  std::filesystem::remove(path, error);
  if (error) throw Error(ErrorLocation{.file = path}, "cannot remove (" + error.message() + ")");
}

void link_or_copy(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::create_hard_link(from, to, error);
  if (!error) return;
  // Filesystems without hard links: a copy keeps the old pair just as well.
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, error);
  if (error)
    throw Error(ErrorLocation{.file = to},
                "cannot keep the previous checkpoint (" + error.message() + ")");
}

void rename_file(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::rename(from, to, error);
  if (error)
    throw Error(ErrorLocation{.file = to}, "cannot move into place (" + error.message() + ")");
}

}  // namespace

void save_checkpoint(const std::string& stem, torch::nn::Module& model,
                     const io::NamedTensors& state, const TrainerPosition& position) {
  create_directories(std::filesystem::path(stem).parent_path().string());
  io::Metadata metadata = position_metadata(position);
  metadata.emplace_back("mrcnn.save", new_save_id(position));
  const Pair now = current(stem), before = previous(stem), next = incoming(stem);
  // 1. The newest pair there is goes under the previous names (hard links: no copying), where
  //    nothing below touches it until the new pair is in place. Until then a crash leaves it
  //    reachable under its old names.
  if (const std::optional<Pair> newest = newest_pair(stem);
      newest && newest->weights != before.weights) {
    remove_file(before.state);
    remove_file(before.weights);
    link_or_copy(newest->state, before.state);
    link_or_copy(newest->weights, before.weights);
    sync_parent_directory(before.weights);
  }
  // 2. The new pair, complete and flushed, under the incoming names.
  io::save_safetensors(next.state, state, metadata);
  io::save_safetensors(next.weights, model_state(model), metadata);
  // 3. The new pair takes the current names, one file at a time.
  rename_file(next.state, now.state);
  sync_parent_directory(now.state);
  rename_file(next.weights, now.weights);
  sync_parent_directory(now.weights);
  // 4. The previous pair is no longer needed.
  remove_file(before.state);
  remove_file(before.weights);
  sync_parent_directory(now.weights);
}

std::optional<CheckpointFound> newest_checkpoint(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) return std::nullopt;
  // Every checkpoint name with a file there, whichever step of a save its files are at.
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (!name.ends_with(kWeightsSuffix)) continue;
    name = checkpoint_stem(name);
    for (const std::string step : {".prev", ".new"}) {
      if (name.ends_with(step)) name.resize(name.size() - step.size());
    }
    if (name != "best_model") names.insert(name);
  }
  if (error) throw Error(ErrorLocation{.file = dir}, "cannot list (" + error.message() + ")");
  std::optional<CheckpointFound> found;
  for (const std::string& name : names) {
    const std::string stem = join_path(dir, name);
    const std::optional<Pair> pair = newest_pair(stem);
    if (!pair) continue;
    const int64_t iteration = *pair_iteration(*pair);
    // Ties (model_final and the last epoch's snapshot) go to the first name in order.
    if (!found || iteration > found->iteration) found = CheckpointFound{stem, iteration};
  }
  return found;
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string stem = checkpoint_stem(path);
  const std::optional<Pair> chosen = newest_pair(stem);
  if (!chosen) {
    const Pair now = current(stem);
    for (const auto& file : {now.weights, now.state}) {
      if (!std::filesystem::exists(file))
        throw Error(ErrorLocation{.file = file}, "checkpoint file not found");
    }
    throw Error(ErrorLocation{.file = stem},
                "incomplete checkpoint: its weights and state files come from different saves, "
                "and no earlier pair is left (were the files copied or edited by hand?)");
  }
  Checkpoint checkpoint;
  io::Metadata state_metadata;
  checkpoint.weights = io::load_safetensors(chosen->weights);
  checkpoint.state = io::load_safetensors(chosen->state, &state_metadata);
  auto number = [&](const std::string& key) { return find(state_metadata, key, chosen->state); };
  checkpoint.position.epoch = std::stoll(number("mrcnn.epoch"));
  checkpoint.position.batch = std::stoll(number("mrcnn.batch"));
  checkpoint.position.iteration = std::stoll(number("mrcnn.iteration"));
  checkpoint.position.best_ap = std::stod(number("mrcnn.best_ap"));
  checkpoint.position.best_epoch = std::stoll(number("mrcnn.best_epoch"));
  checkpoint.files = {chosen->weights, chosen->state};
  return checkpoint;
}

}  // namespace mrcnn::engine
