#include "mrcnn/serving/stop_signals.h"

#include <chrono>
#include <csignal>

namespace mrcnn::serving {
namespace {

volatile std::sig_atomic_t g_received = 0;

extern "C" void remember_signal(int signal) { g_received = signal; }

struct sigaction g_previous_term, g_previous_int;

}  // namespace

StopOnSignals::StopOnSignals(std::function<void()> stop) {
  g_received = 0;
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, &g_previous_term);
  sigaction(SIGINT, &action, &g_previous_int);
  watcher_ = std::thread([this, stop = std::move(stop)] {
    while (!done_) {
      if (g_received != 0) {
        stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

StopOnSignals::~StopOnSignals() {
  done_ = true;
  watcher_.join();
  sigaction(SIGTERM, &g_previous_term, nullptr);
  sigaction(SIGINT, &g_previous_int, nullptr);
}

int StopOnSignals::received() const { return static_cast<int>(g_received); }

}  // namespace mrcnn::serving
