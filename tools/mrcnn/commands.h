// One function per subcommand file: each adds its subcommand to the app and, when that
// subcommand is chosen, stores its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace mrcnn::cli {

// Exit codes: 0 success, 1 bad input (config, files, device) or a failed run, 100+ usage.
inline constexpr int kExitBadInput = 1;

void add_env_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_coco_eval_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_infer_command(CLI::App& app, int& exit_code);
void add_make_shapes_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_convert_weights_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);

}  // namespace mrcnn::cli
