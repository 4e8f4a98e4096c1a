// A minimal parallel loop on std::thread for the torch-free parts of the library (COCO
// reading and evaluation), so they need neither OpenMP nor LibTorch's thread pool.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace mrcnn {

inline int resolve_thread_count(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Calls body(i) for i in [0, n) from up to `threads` threads (0: all cores), handing out
// chunks of `grain` indices. The first exception thrown by any call is rethrown here.
template <class Body>
void parallel_for(std::size_t n, int threads, std::size_t grain, Body&& body) {
  grain = std::max<std::size_t>(grain, 1);
  const std::size_t chunks = (n + grain - 1) / grain;
  const int workers =
      static_cast<int>(std::min<std::size_t>(resolve_thread_count(threads), chunks));
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    for (std::size_t chunk; (chunk = next.fetch_add(1)) < chunks;) {
      try {
        const std::size_t end = std::min(n, (chunk + 1) * grain);
        for (std::size_t i = chunk * grain; i < end; ++i) body(i);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < workers; ++i) pool.emplace_back(work);
  if (workers > 0) work();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace mrcnn
