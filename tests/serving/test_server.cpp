// The server embedded through the C++ API, as an application would: start on a free port,
// answer over HTTP with what the Predictor finds, stop with a request in flight and still
// answer it.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "mrcnn/api/predictor.h"
#include "mrcnn/coco/rle.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/io/image.h"
#include "mrcnn/serving/server.h"
#include "support/random_shapes_model.h"

namespace mrcnn::serving {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const testing::RandomShapesModel model = testing::write_random_shapes_model(
        fs::temp_directory_path() / ("mrcnn_server_test_" + std::to_string(getpid())), 2);
    dir_ = model.dir;
    config_ = model.config;
    weights_ = model.weights;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string image_path(int i) { return (dir_ / "shapes" / "val" / fmt_index(i)).string(); }
  static std::string fmt_index(int i) {
    char name[32];
    std::snprintf(name, sizeof(name), "%06d.jpg", i);
    return name;
  }

  static inline fs::path dir_;
  static inline std::string config_, weights_;
};

void wait_ready(httplib::Client& client) {
  for (int i = 0; i < 600; ++i) {
    const auto res = client.Get("/readyz");
    if (res && res->status == 200) return;
    std::this_thread::sleep_for(50ms);
  }
  FAIL() << "the server never became ready";
}

TEST_F(ServerTest, AnswersWithThePredictorsDetections) {
  Server server({.config_path = config_, .weights = weights_, .port = 0, .max_batch = 2});
  const int port = server.start();
  httplib::Client client("127.0.0.1", port);
  ASSERT_EQ(client.Get("/healthz")->status, 200);
  wait_ready(client);
  ASSERT_TRUE(server.ready());

  const std::vector<uint8_t> bytes = read_file_bytes(image_path(1));
  const auto res = client.Post("/v1/predict?max_detections=3",
                               std::string(bytes.begin(), bytes.end()), "image/jpeg");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;

  // The same detections straight from the Predictor: each mask's RLE is in the answer.
  const api::Predictor predictor = api::Predictor::load(config_, weights_, "cpu");
  const structures::Instances found = predictor.predict_file(image_path(1));
  ASSERT_GE(found.size(), 3) << "the test needs detections";
  for (int64_t i = 0; i < 3; ++i) {
    const std::string counts = coco::rle_to_string(found.mask_rles[static_cast<std::size_t>(i)]);
    EXPECT_NE(res->body.find("\"counts\": \"" + counts + "\""), std::string::npos) << i;
  }
  EXPECT_EQ(res->body.find(coco::rle_to_string(found.mask_rles[3])), std::string::npos)
      << "max_detections=3 kept a fourth";
  EXPECT_NE(res->body.find("\"width\": 96, \"height\": 80"), std::string::npos) << res->body;

  const auto model = client.Get("/v1/model");
  EXPECT_NE(model->body.find("\"config\": \"model\""), std::string::npos) << model->body;
  EXPECT_NE(model->body.find("\"name\": \"circle\""), std::string::npos) << model->body;
  server.stop();
  server.wait();
}

TEST_F(ServerTest, StopAnswersTheRequestInFlightThenRefusesConnections) {
  // A long max_wait keeps the request in the queue while stop() arrives.
  Server server({.config_path = config_,
                 .weights = weights_,
                 .port = 0,
                 .max_batch = 4,
                 .max_wait_ms = 1000});
  const int port = server.start();
  httplib::Client probe("127.0.0.1", port);
  wait_ready(probe);
  const std::vector<uint8_t> bytes = read_file_bytes(image_path(2));
  auto in_flight = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30);
    auto res = client.Post("/v1/predict", std::string(bytes.begin(), bytes.end()), "image/jpeg");
    return res ? res->status : -1;
  });
  std::this_thread::sleep_for(300ms);
  server.stop();
  EXPECT_EQ(in_flight.get(), 200);
  server.wait();
  httplib::Client late("127.0.0.1", port);
  late.set_connection_timeout(1);
  EXPECT_FALSE(late.Get("/healthz"));
}

TEST_F(ServerTest, ATakenPortIsANamedError) {
  Server first({.config_path = config_, .weights = weights_, .port = 0});
  const int port = first.start();
  Server second({.config_path = config_, .weights = weights_, .port = port});
  try {
    second.start();
    FAIL() << "a second server on one port";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mrcnn::serving
