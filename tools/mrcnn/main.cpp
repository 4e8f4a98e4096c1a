// The `mrcnn` command-line program: parse, hand over to a subcommand, report errors plainly.
#include <c10/util/Exception.h>

#include <iostream>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/build_info.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/memory.h"
#include "mrcnn/engine/backend_plugins.h"

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
  cli::add_convert_weights_command(app, exit_code);
  cli::add_env_command(app, exit_code);

  try {
    keep_freed_memory_for_reuse();
    engine::load_backend_plugins_from_environment();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mrcnn::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return cli::kExitBadInput;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return cli::kExitBadInput;
  }
  return exit_code;
}
