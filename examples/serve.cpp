// An application embedding the HTTP server of the installed mrcnn package: `mrcnn serve` in
// a few lines, stopped gracefully by SIGTERM or Ctrl-C.
//   mrcnn_serve_example CONFIG WEIGHTS
#include <mrcnn/serving/server.h>
#include <mrcnn/serving/stop_signals.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " CONFIG WEIGHTS\n";
    return 2;
  }
  try {
    mrcnn::serving::Server server(
        {.config_path = argv[1], .weights = argv[2], .port = 0, .log = &std::cerr});
    const int port = server.start();
    std::cout << "listening on port " << port << std::endl;
    mrcnn::serving::StopOnSignals stop_on_signal([&server] { server.stop(); });
    server.wait();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
