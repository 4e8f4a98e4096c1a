// The `mrcnn` program with every command: parse, hand over to a subcommand, report errors
// plainly. (`mrcnn coco-eval` alone is also served by the front end without LibTorch.)
#include <c10/util/Exception.h>

#include "commands.h"
#include "mrcnn/build_info.h"
#include "mrcnn/common/memory.h"
#include "mrcnn/runtime/backend_plugins.h"
#include "run_app.h"

int main(int argc, char** argv) {
  using namespace mrcnn;
  CLI::App app{"mrcnn: Mask R-CNN + FPN training, evaluation and inference", "mrcnn"};
  app.set_version_flag("--version", std::string("mrcnn ") + build_info::kVersion);
  app.require_subcommand(1);

  int exit_code = 0;
  cli::add_train_command(app, exit_code);
  cli::add_eval_command(app, exit_code);
  cli::add_infer_command(app, exit_code);
  cli::add_coco_eval_command(app, exit_code);
  cli::add_make_shapes_command(app, exit_code);
  cli::add_bench_command(app, exit_code);
  cli::add_serve_command(app, exit_code);
  cli::add_convert_weights_command(app, exit_code);
  cli::add_env_command(app, exit_code);
  return cli::run_app(
      app, argc, argv, exit_code,
      [] {
        keep_freed_memory_for_reuse();
        runtime::load_backend_plugins_from_environment();
      },
      [](const std::exception& e) {
        // LibTorch's errors carry a C++ backtrace, which means nothing to a user.
        const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
        return torch_error ? std::string(torch_error->what_without_backtrace())
                           : std::string(e.what());
      });
}
