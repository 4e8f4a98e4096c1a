// Test helper, preloaded into a program (LD_PRELOAD): counts the filesystem steps it takes on
// paths containing MRCNN_STEP_FILTER -- creating, flushing, linking, renaming and removing
// files -- and kills the process with SIGKILL just before step MRCNN_KILL_AT_STEP (1-based;
// unset or 0: never). With MRCNN_STEP_LOG set, each step is appended to that file as
// "<n> <call> <path>" before it runs. SIGKILL cannot be caught: the program stops exactly as
// at a power cut between two system calls (what the kernel had is what survives; the page
// cache is not lost, so this tests the order of the steps, not the fsyncs themselves).
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::atomic<long> steps{0};

bool watched(const char* path) {
  const char* filter = std::getenv("MRCNN_STEP_FILTER");
  return path != nullptr && filter != nullptr && std::strstr(path, filter) != nullptr;
}

std::string fd_path(int fd) {
  char link[64], target[4096];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, target, sizeof(target) - 1);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : std::string();
}

void step(const char* call, const char* path) {
  if (!watched(path)) return;
  const long n = ++steps;
  if (const char* log = std::getenv("MRCNN_STEP_LOG")) {  // not through fopen: no recursion
    const int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      const std::string line = std::to_string(n) + " " + call + " " + path + "\n";
      [[maybe_unused]] const ssize_t written = ::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  const char* kill_at = std::getenv("MRCNN_KILL_AT_STEP");
  if (kill_at != nullptr && std::atol(kill_at) == n) ::kill(::getpid(), SIGKILL);
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int rename(const char* from, const char* to) {
  step("rename", to);
  return next<int (*)(const char*, const char*)>("rename")(from, to);
}

int link(const char* from, const char* to) {
  step("link", to);
  return next<int (*)(const char*, const char*)>("link")(from, to);
}

int unlink(const char* path) {
  step("unlink", path);
  return next<int (*)(const char*)>("unlink")(path);
}

int remove(const char* path) {
  step("remove", path);
  return next<int (*)(const char*)>("remove")(path);
}

int fsync(int fd) {
  const std::string path = fd_path(fd);
  step("fsync", path.c_str());
  return next<int (*)(int)>("fsync")(fd);
}

FILE* fopen(const char* path, const char* mode) {
  if (std::strchr(mode, 'w') != nullptr || std::strchr(mode, 'a') != nullptr) step("create", path);
  return next<FILE* (*)(const char*, const char*)>("fopen")(path, mode);
}

FILE* fopen64(const char* path, const char* mode) {
  if (std::strchr(mode, 'w') != nullptr || std::strchr(mode, 'a') != nullptr) step("create", path);
  return next<FILE* (*)(const char*, const char*)>("fopen64")(path, mode);
}

}  // extern "C"
