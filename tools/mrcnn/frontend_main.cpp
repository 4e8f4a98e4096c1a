// The `mrcnn` users run: it serves `mrcnn coco-eval` itself, without LibTorch (whose loading
// alone takes about a third of a second, longer than many evaluations), and hands every other
// command to the full program (libexec/mrcnn/mrcnn-main), which replaces this process: same
// process id, arguments, environment and exit status.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string_view>

#include "commands.h"
#include "run_app.h"

namespace {

std::filesystem::path full_program() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return self.parent_path().parent_path() / "libexec" / "mrcnn" / "mrcnn-main";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mrcnn;
  if (argc >= 2 && std::string_view(argv[1]) == "coco-eval") {
    CLI::App app{"mrcnn: Mask R-CNN + FPN training, evaluation and inference", "mrcnn"};
    app.require_subcommand(1);
    int exit_code = 0;
    cli::add_coco_eval_command(app, exit_code);
    return cli::run_app(app, argc, argv, exit_code);
  }
  const std::string program = full_program().string();
  ::execv(program.c_str(), argv);
  std::cerr << "error: cannot start " << program << ": " << std::strerror(errno) << "\n";
  return cli::kExitBadInput;
}
