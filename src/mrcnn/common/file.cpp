#include "mrcnn/common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "mrcnn/common/error.h"

namespace mrcnn {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error(ErrorLocation{.file = path}, message);
}

std::string system_error() { return std::strerror(errno); }

}  // namespace

// fsync on the folder makes a rename itself durable, not only the file's bytes.
void sync_parent_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const int fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // durability is best effort where the folder cannot be opened
  ::fsync(fd);
  ::close(fd);
}

std::vector<uint8_t> read_file_prefix(const std::string& path, std::size_t max_bytes,
                                      std::size_t* file_size) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(path, "cannot open file (" + system_error() + ")");
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail(path, S_ISDIR(info.st_mode) ? "is a directory, not a file" : "is not a regular file");
  }
  const auto size = static_cast<std::size_t>(info.st_size);
  if (file_size != nullptr) *file_size = size;
  std::vector<uint8_t> bytes(std::min(size, max_bytes));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(path, "cannot read file (" +
                     (n < 0 ? system_error() : std::string("shorter than its size")) + ")");
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return bytes;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  return read_file_prefix(path, std::numeric_limits<std::size_t>::max(), nullptr);
}

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temporary_(path_ + ".tmp") {
  file_ = std::fopen(temporary_.c_str(), "wb");
  if (file_ == nullptr) fail(temporary_, "cannot create file (" + system_error() + ")");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  std::remove(temporary_.c_str());  // never finished: `path` keeps what it had
}

void AtomicFileWriter::write(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    fail(temporary_, "cannot write file (" + system_error() + "; disk full?)");
  }
}

void AtomicFileWriter::write(std::span<const uint8_t> bytes) {
  write(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void AtomicFileWriter::commit() {
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const std::string why = flushed ? "" : system_error();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    std::remove(temporary_.c_str());
    fail(temporary_, "cannot write file (" + why + "; disk full?)");
  }
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const std::string reason = system_error();
    std::remove(temporary_.c_str());
    fail(path_, "cannot move the finished file into place (" + reason + ")");
  }
  sync_parent_directory(path_);
}

void write_file_atomically(const std::string& path, std::span<const uint8_t> bytes) {
  AtomicFileWriter writer(path);
  writer.write(bytes);
  writer.commit();
}

void write_file_atomically(const std::string& path, std::string_view text) {
  AtomicFileWriter writer(path);
  writer.write(text);
  writer.commit();
}

std::string join_path(const std::string& folder, const std::string& name) {
  return (std::filesystem::path(folder) / name).string();
}

void create_directories(const std::string& directory) {
  if (directory.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (!error && std::filesystem::is_directory(directory)) return;
  // Name the part of the path that is in the way, which is what the user must fix.
  std::filesystem::path blocker = directory;
  while (!blocker.empty() && !std::filesystem::exists(blocker)) blocker = blocker.parent_path();
  std::string why = error ? error.message() : "not a directory";
  if (!blocker.empty() && !std::filesystem::is_directory(blocker)) {
    why = "'" + blocker.string() + "' is a file, not a directory";
  }
  fail(directory, "cannot create the directory (" + why + ")");
}

}  // namespace mrcnn
