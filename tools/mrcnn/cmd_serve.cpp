// `mrcnn serve -c CFG [--weights W] [--device D] [--host 127.0.0.1] [--port 8080]
//              [--max_batch 4] [--max_wait_ms 5] [--workers 1] [--queue 64] [--max_body_mb 32]`
#include <csignal>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common_options.h"
#include "mrcnn/serving/server.h"
#include "mrcnn/serving/stop_signals.h"

namespace mrcnn::cli {

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "serve", "Answer predictions over HTTP (POST /v1/predict), batching concurrent requests");
  auto config = std::make_shared<ConfigOptions>();
  auto options = std::make_shared<serving::ServerOptions>();
  add_config_options(*command, *config);
  command->add_option("--weights", options->weights,
                      "weights file (default: the config's `weights`)");
  command->add_option("--host", options->host, "address to listen on")->default_val("127.0.0.1");
  command->add_option("--port", options->port, "port (0: any free port)")->default_val(8080);
  command->add_option("--max_batch", options->max_batch, "images per model pass, at most")
      ->default_val(4);
  command
      ->add_option("--max_wait_ms", options->max_wait_ms,
                   "how long an image waits for others to batch with")
      ->default_val(5);
  command->add_option("--workers", options->workers, "batches run at once")->default_val(1);
  command->add_option("--queue", options->queue, "images waiting, at most (then 503)")
      ->default_val(64);
  command->add_option("--max_body_mb", options->max_body_mb, "largest request body (MiB)")
      ->default_val(32);
  command->callback([&exit_code, config, options] {
    options->config_path = config->config_path;
    options->overrides = config->overrides;
    options->device = config->device;
    options->log = &std::cerr;
    serving::Server server(*options);
    const int port = server.start();
    // The address on stdout, for scripts that start the server on port 0.
    std::cout << "listening on http://" << options->host << ":" << port << std::endl;
    serving::StopOnSignals on_signal([&server] { server.stop(); });
    server.wait();
    if (on_signal.received() != 0) {
      std::cerr << "serve: stopped by " << (on_signal.received() == SIGTERM ? "SIGTERM" : "SIGINT")
                << " after answering the requests in flight\n";
    }
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
