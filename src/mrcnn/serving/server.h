// `mrcnn serve` as a library: an HTTP server around a Predictor, with dynamic batching.
//
//   mrcnn::serving::Server server({.config_path = "model.yml", .weights = "model.safetensors"});
//   const int port = server.start();   // answering; the model warms up in the background
//   ...                                // POST images to http://127.0.0.1:<port>/v1/predict
//   server.stop();                     // from any thread: no new requests, in-flight ones finish
//   server.wait();
//
// Routes: POST /v1/predict, GET /healthz, /readyz, /v1/model, /metrics (README: "Serving").
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace mrcnn::serving {

struct ServerOptions {
  std::string config_path;
  std::vector<std::string> overrides;  // "-o"-style key=value
  std::string weights;                 // empty: the config's `weights`
  std::string device;                  // empty: the config decides
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: a free port (start() says which)
  int64_t max_batch = 4;
  double max_wait_ms = 5;
  int64_t workers = 1;  // batches in flight at once
  int64_t queue = 64;   // images waiting for the model, at most (then 503)
  double max_body_mb = 32;
  std::ostream* log = nullptr;  // start, readiness, failed requests; nullptr: nowhere
};

class Server {
 public:
  // Loads the config and the model: their errors (mrcnn::Error) come from here, before any
  // port is taken.
  explicit Server(const ServerOptions& options);
  ~Server();  // stop() and wait()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the port and starts answering; readiness follows once the model is warmed.
  // Returns the port. Throws mrcnn::Error when the address cannot be bound.
  int start();
  bool ready() const;
  // Thread-safe and idempotent: stops accepting; requests in flight are answered.
  void stop();
  // Blocks until stopped and every request answered. Rethrows a failed warm-up.
  void wait();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mrcnn::serving
