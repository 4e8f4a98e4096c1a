// Reading and writing whole files with errors that name the file. Writes are atomic: a reader
// (or a run restarted after a crash) sees the old file or the new one, never half of one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mrcnn {

// The bytes of a regular file. Throws mrcnn::Error naming the file when it is missing, is a
// directory (or another non-file), or cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path);
// At most the first `max_bytes` of the file (same checks); `file_size` gets its whole size.
std::vector<uint8_t> read_file_prefix(const std::string& path, std::size_t max_bytes,
                                      std::size_t* file_size);

// Writes to a temporary file beside `path`, flushes it to disk, then renames it over `path`.
void write_file_atomically(const std::string& path, std::span<const uint8_t> bytes);
void write_file_atomically(const std::string& path, std::string_view text);

// A file written piece by piece that appears at `path` only when commit() succeeds; until then
// (and if the writer is destroyed without commit) `path` keeps its previous content.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view text);
  void write(std::span<const uint8_t> bytes);
  void commit();

  const std::string& path() const { return path_; }

 private:
  std::string path_, temporary_;
  std::FILE* file_ = nullptr;
};

// Flushes the folder holding `path`, so that renames and removals in it survive a crash.
void sync_parent_directory(const std::string& path);

// `folder` / `name` as a path string (`name` may hold several components).
std::string join_path(const std::string& folder, const std::string& name);

// Creates `directory` and its parents; throws mrcnn::Error naming it (and what is in the way)
// when that is impossible.
void create_directories(const std::string& directory);

}  // namespace mrcnn
