// Running a command-line app: parse, run the chosen subcommand, and turn every error into a
// plain message and an exit code (never an abort). Shared by both programs.
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>
#include <iostream>
#include <string>

#include "commands.h"

namespace mrcnn::cli {

// prepare runs first, inside the same error handling; describe turns an error into its
// message (default: what()).
inline int run_app(CLI::App& app, int argc, char** argv, const int& exit_code,
                   const std::function<void()>& prepare = {},
                   const std::function<std::string(const std::exception&)>& describe = {}) {
  try {
    if (prepare) prepare();
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << (describe ? describe(e) : std::string(e.what())) << "\n";
    return kExitBadInput;
  }
  return exit_code;
}

}  // namespace mrcnn::cli
