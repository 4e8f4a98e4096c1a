#include "mrcnn/serving/server.h"

#include <ATen/ATen.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "mrcnn/api/predictor.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/json_writer.h"
#include "mrcnn/common/sha256.h"
#include "mrcnn/io/download.h"
#include "mrcnn/io/image.h"
#include "mrcnn/serving/batcher.h"
#include "mrcnn/serving/detections_json.h"
#include "mrcnn/serving/metrics.h"
#include "mrcnn/serving/request_options.h"

namespace mrcnn::serving {
namespace {

const std::set<std::string> kGetPaths = {"/healthz", "/readyz", "/v1/model", "/metrics"};
const std::string kPredictPath = "/v1/predict";
// How long a client should wait before asking again after a 503.
const char* const kRetryAfterSeconds = "1";

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

const char* reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such path";
    case 405:
      return "method not allowed";
    case 408:
      return "request timeout";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported media type";
    case 431:
      return "request header fields too large";
    case 500:
      return "internal server error";
    case 503:
      return "service unavailable";
    case 504:
      return "deadline exceeded";
    default:
      return "error";
  }
}

void reply_json(httplib::Response& res, int status, const std::string& json) {
  res.status = status;
  res.set_content(json + "\n", "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, status, JsonObject().add("error", message).add("status", status).str());
}

// A request's answer, or the error it gets: thrown inside the predict handler.
struct RequestFailure {
  int status;
  std::string message;
};

// The media type without parameters, lower case.
std::string media_type(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// Weights given by URL were fetched into the cache when the model loaded: that file.
std::string local_file(const std::string& weights) {
  return io::is_url(weights) ? io::fetch_to_cache(weights) : weights;
}

}  // namespace

struct Server::State {
  explicit State(const ServerOptions& o)
      : options(o),
        predictor(api::Predictor::load(o.config_path, o.weights, o.device, o.overrides)),
        weights_sha256(sha256_file_hex(local_file(predictor.description().weights_path))),
        metrics(o.max_batch) {}

  ServerOptions options;
  api::Predictor predictor;
  std::string weights_sha256;
  ServerMetrics metrics;
  std::unique_ptr<Batcher> batcher;
  httplib::Server http;
  std::atomic<bool> ready{false}, stopping{false}, listening_done{false};
  std::atomic<int64_t> in_flight{0};
  std::thread listener, warmer;
  std::exception_ptr warm_error;
  std::mutex log_mutex, lifecycle_mutex;
  bool started = false, waited = false;

  void log(const std::string& line) {
    if (options.log == nullptr) return;
    std::lock_guard lock(log_mutex);
    *options.log << "serve: " << line << std::endl;
  }

  void routes();
  void stop_listening();  // once start() has run
  void predict(const httplib::Request& req, httplib::Response& res);
  std::string model_json() const;
  void warm_up();
};

std::string Server::State::model_json() const {
  const api::Predictor::Description& d = predictor.description();
  std::string classes = "[";
  for (const coco::Category& category : predictor.labels().categories()) {
    if (classes.size() > 1) classes += ", ";
    classes += JsonObject().add("id", category.id).add("name", category.name).str();
  }
  classes += "]";
  return JsonObject()
      .add("config", d.config_name)
      .add("num_classes", predictor.labels().num_classes())
      .add_raw("classes", classes)
      .add("device", d.device)
      .add("weights", d.weights_path)
      .add("weights_sha256", weights_sha256)
      .add("max_batch", options.max_batch)
      .add("max_wait_ms", options.max_wait_ms)
      .add("workers", options.workers)
      .add("queue", options.queue)
      .add("max_image_pixels", d.max_image_pixels)
      .add("ready", ready.load())
      .str();
}

void Server::State::warm_up() {
  // The first passes allocate and pick kernels; a client should not pay for them. A blank
  // image of a common camera size, alone and as a full batch.
  const at::Tensor blank = at::full({480, 640, 3}, 114, at::kByte);
  predictor.predict(std::vector<at::Tensor>{blank});
  predictor.predict(std::vector<at::Tensor>(static_cast<std::size_t>(options.max_batch), blank));
}

void Server::State::predict(const httplib::Request& req, httplib::Response& res) {
  const Clock::time_point arrived = Clock::now();
  ++in_flight;
  struct Done {
    State& state;
    Clock::time_point arrived;
    ~Done() {
      --state.in_flight;
      state.metrics.observe_predict_seconds(milliseconds_since(arrived) / 1000.0);
    }
  } done{*this, arrived};
  try {
    if (stopping) throw RequestFailure{503, "the server is shutting down"};
    if (!ready) throw RequestFailure{503, "the model is warming up"};
    PredictOptions query;
    try {
      query = parse_predict_options(req.params);
    } catch (const Error& e) {
      throw RequestFailure{400, e.what()};
    }

    // The images: the body, or each part of a multipart form.
    struct Upload {
      std::string name;   // in the answer (multipart only)
      std::string label;  // in error messages
      const std::string* bytes;
    };
    std::vector<Upload> uploads;
    const bool multipart = req.is_multipart_form_data();
    if (multipart) {
      for (const auto& [field, part] : req.files) {
        const std::string name = part.filename.empty() ? field : part.filename;
        uploads.push_back({name, "part '" + name + "'", &part.content});
      }
      if (uploads.empty()) throw RequestFailure{400, "the multipart request has no parts"};
    } else {
      const std::string type = media_type(req);
      if (type != "image/jpeg" && type != "image/png" && type != "application/octet-stream") {
        throw RequestFailure{415, "Content-Type '" + req.get_header_value("Content-Type") +
                                      "' is not an image: send image/jpeg, image/png, "
                                      "application/octet-stream or multipart/form-data"};
      }
      uploads.push_back({"", "request body", &req.body});
    }

    const int64_t max_pixels = predictor.description().max_image_pixels;
    std::vector<at::Tensor> images;
    std::vector<double> decode_ms;
    for (const Upload& upload : uploads) {
      const Clock::time_point start = Clock::now();
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(upload.bytes->data()),
                                           upload.bytes->size());
      if (bytes.empty()) throw RequestFailure{400, upload.label + ": empty, no image sent"};
      io::ImageHeader header;
      try {
        header = io::read_image_header(bytes, upload.label, 0, predictor.description().decode);
      } catch (const Error& e) {
        throw RequestFailure{400, e.what()};
      }
      if (max_pixels > 0 && header.height * header.width > max_pixels) {
        throw RequestFailure{413, upload.label + ": the image is " + std::to_string(header.width) +
                                      "x" + std::to_string(header.height) +
                                      ", over the server's limit of " + std::to_string(max_pixels) +
                                      " pixels"};
      }
      try {
        images.push_back(io::decode_image(bytes, upload.label, 0, predictor.description().decode));
      } catch (const Error& e) {
        throw RequestFailure{400, e.what()};
      }
      decode_ms.push_back(milliseconds_since(start));
    }

    const Clock::time_point deadline = query.timeout_ms > 0
                                           ? arrived + std::chrono::milliseconds(query.timeout_ms)
                                           : Clock::time_point::max();
    const std::size_t count = images.size();
    const std::shared_ptr<Ticket> ticket =
        batcher->submit(std::move(images), query.score_threshold, deadline);
    if (!ticket) {
      res.set_header("Retry-After", kRetryAfterSeconds);
      throw RequestFailure{503, stopping ? "the server is shutting down"
                                         : "the queue is full (" +
                                               std::to_string(batcher->queue_depth()) +
                                               " images waiting): try again shortly"};
    }
    switch (ticket->wait()) {
      case Ticket::Status::kTimedOut:
        throw RequestFailure{504,
                             "not answered within timeout_ms=" + std::to_string(query.timeout_ms)};
      case Ticket::Status::kFailed:
        log("a batch failed: " + ticket->error());
        throw RequestFailure{500, "the model failed on this batch: " + ticket->error()};
      case Ticket::Status::kDone:
        break;
    }

    const double total_ms = milliseconds_since(arrived);
    std::string body;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string answer = image_answer_json(
          uploads[i].name, ticket->outcomes()[i], {.decode_ms = decode_ms[i], .total_ms = total_ms},
          predictor.labels(), query);
      body += (i == 0 ? "" : ", ") + answer;
    }
    reply_json(res, 200, multipart ? R"({"images": [)" + body + "]}" : body);
  } catch (const RequestFailure& failure) {
    if (failure.status == 503) res.set_header("Retry-After", kRetryAfterSeconds);
    reply_error(res, failure.status, failure.message);
  }
}

void Server::State::routes() {
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, R"({"status": "alive"})");
  });
  http.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (ready && !stopping) {
      reply_json(res, 200, R"({"ready": true})");
    } else {
      res.set_header("Retry-After", kRetryAfterSeconds);
      reply_json(res, 503,
                 JsonObject()
                     .add("ready", false)
                     .add("status", stopping ? "shutting down" : "warming up")
                     .str());
    }
  });
  http.Get("/v1/model", [this](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, model_json());
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(metrics.exposition(batcher->queue_depth(), in_flight, ready && !stopping),
                    "text/plain; version=0.0.4");
  });
  http.Post(kPredictPath,
            [this](const httplib::Request& req, httplib::Response& res) { predict(req, res); });

  // Everything else: a known path with the wrong method, or an unknown path.
  const auto elsewhere = [](const httplib::Request& req, httplib::Response& res) {
    if (req.path == kPredictPath) {
      res.set_header("Allow", "POST");
      reply_error(res, 405, req.method + " " + req.path + ": use POST");
    } else if (kGetPaths.count(req.path) > 0) {
      res.set_header("Allow", "GET, HEAD");
      reply_error(res, 405, req.method + " " + req.path + ": use GET");
    } else {
      reply_error(res, 404,
                  "no such path: " + req.path +
                      " (POST /v1/predict; GET /healthz, /readyz, /v1/model, /metrics)");
    }
  };
  http.Get(".*", elsewhere);
  http.Post(".*", elsewhere);
  http.Put(".*", elsewhere);
  http.Patch(".*", elsewhere);
  http.Delete(".*", elsewhere);
  http.Options(".*", elsewhere);

  // Errors the library answers by itself (a body over the limit, a malformed request) get a
  // JSON body like ours.
  http.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        reply_error(res, res.status, reason(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http.set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr error) {
        std::string message = "unknown error";
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          message = e.what();
        } catch (...) {
        }
        log(req.method + " " + req.path + " failed: " + message);
        reply_error(res, 500, message);
      });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const bool known = req.path == kPredictPath || kGetPaths.count(req.path) > 0;
    metrics.count_request(known ? req.path : "other", res.status);
  });
}

Server::Server(const ServerOptions& options) {
  if (options.max_batch < 1) throw Error("--max_batch must be at least 1");
  if (options.workers < 1) throw Error("--workers must be at least 1");
  if (options.queue < 1) throw Error("--queue must be at least 1");
  if (!(options.max_wait_ms >= 0)) throw Error("--max_wait_ms must be >= 0");
  if (!(options.max_body_mb > 0)) throw Error("--max_body_mb must be > 0");
  if (options.port < 0 || options.port > 65535) throw Error("--port must be within 0..65535");
  state_ = std::make_unique<State>(options);
  State& s = *state_;
  s.batcher = std::make_unique<Batcher>(
      Batcher::Options{
          .max_batch = options.max_batch,
          .max_wait = std::chrono::microseconds(static_cast<int64_t>(options.max_wait_ms * 1000.0)),
          .workers = options.workers,
          .queue_capacity = options.queue},
      [&s](const std::vector<at::Tensor>& images, double min_score) {
        return s.predictor.predict(images, min_score);
      },
      [&s](int64_t images, double) { s.metrics.observe_batch(images); });
  // Each connection holds a thread while it is open: enough for a full queue of single-image
  // requests, the batches being run, and the probes.
  const auto threads =
      static_cast<std::size_t>(options.queue + options.workers * options.max_batch + 16);
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only (a restart can take the port while old connections linger), not the
  // library's default SO_REUSEPORT, with which a second server would silently share the port.
  s.http.set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s.http.set_payload_max_length(static_cast<std::size_t>(options.max_body_mb * 1024 * 1024));
  s.http.set_keep_alive_max_count(1000);
  // Short, so that an idle kept-alive connection does not hold a shutdown for long.
  s.http.set_keep_alive_timeout(2);
  s.http.set_read_timeout(10);
  s.http.set_write_timeout(10);
  s.routes();
}

Server::~Server() {
  try {
    stop();
    wait();
  } catch (...) {  // a destructor reports nothing; wait() is where errors are seen
  }
}

int Server::start() {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle_mutex);
  if (s.started) throw Error("the server is already started");
  const ServerOptions& o = s.options;
  const int port = o.port == 0 ? s.http.bind_to_any_port(o.host) : o.port;
  if (port < 0 || (o.port != 0 && !s.http.bind_to_port(o.host, o.port))) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                " (the port is taken, or the host is not an address of this machine)");
  }
  s.started = true;
  s.listener = std::thread([&s] {
    s.http.listen_after_bind();
    s.listening_done = true;
  });
  s.warmer = std::thread([&s] {
    try {
      const auto start = Clock::now();
      s.warm_up();
      s.ready = true;
      s.log("ready (model warmed in " +
            std::to_string(static_cast<int64_t>(milliseconds_since(start))) + " ms)");
    } catch (...) {
      s.warm_error = std::current_exception();
      s.log("warm-up failed: stopping");
      s.stop_listening();
    }
  });
  const api::Predictor::Description& d = s.predictor.description();
  s.log("model " + d.config_name + " (" + d.weights_path + ") on " + d.device +
        ", listening on http://" + o.host + ":" + std::to_string(port));
  return port;
}

bool Server::ready() const { return state_->ready && !state_->stopping; }

void Server::stop() {
  State& s = *state_;
  s.stopping = true;
  {
    std::lock_guard lock(s.lifecycle_mutex);
    if (!s.started) return;
  }
  s.stop_listening();
}

void Server::State::stop_listening() {
  stopping = true;
  // The listener may not have begun listening yet; a stop before that would be lost.
  while (!http.is_running() && !listening_done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  http.stop();
}

void Server::wait() {
  State& s = *state_;
  {
    std::lock_guard lock(s.lifecycle_mutex);
    if (!s.started || s.waited) return;
    s.waited = true;
  }
  // The listener returns once its threads have answered every accepted request.
  s.listener.join();
  s.batcher->close();
  s.warmer.join();
  s.log("stopped");
  if (s.warm_error) std::rethrow_exception(s.warm_error);
}

}  // namespace mrcnn::serving
