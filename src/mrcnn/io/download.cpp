#include "mrcnn/io/download.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/sha256.h"

namespace mrcnn::io {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& url, const std::string& message) {
  throw Error(ErrorLocation{.file = url}, message);
}

// The file name of a URL: its path's last part, without query or fragment.
std::string url_file_name(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const std::size_t scheme = path.find("://");
  if (scheme != std::string::npos) path = path.substr(scheme + 3);
  const std::size_t slash = path.find('/');
  path = slash == std::string::npos ? std::string() : path.substr(slash);
  const std::string name = fs::path(path).filename().string();
  return name;
}

// torchvision's convention: "<name>-<first 8 or more hex digits of the SHA-256>.<ext>".
std::string expected_sha256_prefix(const std::string& file_name) {
  static const std::regex kHashed(R"(^.*-([0-9a-f]{8,64})\.[A-Za-z0-9]+$)");
  std::smatch match;
  return std::regex_match(file_name, match, kHashed) ? match[1].str() : std::string();
}

// flock() on a lock file beside the download: released when the descriptor closes.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
    if (fd_ < 0) fail(path, "cannot create the download lock file");
    ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

struct Transfer {
  std::FILE* file = nullptr;
  int64_t resumed_from = 0;
  const FetchOptions* options = nullptr;
  std::chrono::steady_clock::time_point last_report{};
  std::string name;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  return std::fwrite(data, size, count, transfer->file) * size;
}

int report_progress(void* user, curl_off_t total, curl_off_t done, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  const int64_t so_far = transfer->resumed_from + static_cast<int64_t>(done);
  const int64_t whole = total > 0 ? transfer->resumed_from + static_cast<int64_t>(total) : 0;
  if (transfer->options->progress) {
    transfer->options->progress(so_far, whole);
    return 0;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - transfer->last_report < std::chrono::seconds(1)) return 0;
  transfer->last_report = now;
  constexpr double kMiB = 1024.0 * 1024.0;
  if (whole > 0) {
    std::fprintf(stderr, "\rdownloading %s: %5.1f%% of %.1f MiB", transfer->name.c_str(),
                 100.0 * static_cast<double>(so_far) / static_cast<double>(whole),
                 static_cast<double>(whole) / kMiB);
  } else {
    std::fprintf(stderr, "\rdownloading %s: %.1f MiB", transfer->name.c_str(),
                 static_cast<double>(so_far) / kMiB);
  }
  std::fflush(stderr);
  return 0;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

// One transfer into `partial`, resuming after the bytes it already has. Returns the curl
// result and the HTTP status.
std::pair<CURLcode, long> transfer_once(const std::string& url, const std::string& partial,
                                        const FetchOptions& options, std::string& error) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) fail(url, "cannot initialise libcurl");
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) fail(url, "cannot initialise libcurl");
  std::error_code ignored;
  const int64_t have =
      fs::exists(partial) ? static_cast<int64_t>(fs::file_size(partial, ignored)) : 0;
  Transfer transfer{.resumed_from = have, .options = &options, .name = url_file_name(url)};
  transfer.file = std::fopen(partial.c_str(), have > 0 ? "ab" : "wb");
  if (transfer.file == nullptr) fail(partial, "cannot write the download");
  char message[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (under 1 KiB/s for a minute) is given up, and resumed by the next try.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, report_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mrcnn");
  if (have > 0) curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(have));
  const CURLcode result = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const bool closed = std::fclose(transfer.file) == 0;
  if (!transfer.options->progress &&
      transfer.last_report != std::chrono::steady_clock::time_point{}) {
    std::fputc('\n', stderr);
  }
  if (!closed) fail(partial, "cannot write the download");
  error = message[0] != '\0' ? message : curl_easy_strerror(result);
  // A server that ignores the range sends the whole file again: start over from it.
  if (result == CURLE_OK && have > 0 && status == 200) {
    error = "the server does not resume transfers";
    return {CURLE_RANGE_ERROR, status};
  }
  return {result, status};
}

bool worth_retrying(CURLcode result) {
  return result == CURLE_PARTIAL_FILE || result == CURLE_OPERATION_TIMEDOUT ||
         result == CURLE_RECV_ERROR || result == CURLE_SEND_ERROR || result == CURLE_GOT_NOTHING ||
         result == CURLE_RANGE_ERROR;
}

}  // namespace

bool is_url(const std::string& path) {
  return path.starts_with("http://") || path.starts_with("https://");
}

std::string weights_cache_dir() {
  if (const char* home = std::getenv("MRCNN_HOME"); home != nullptr && *home != '\0') {
    return join_path(home, "weights");
  }
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache != nullptr && *cache != '\0') {
    return join_path(join_path(cache, "mrcnn"), "weights");
  }
  const char* home = std::getenv("HOME");
  return join_path(join_path(home != nullptr ? home : ".", ".cache"), "mrcnn/weights");
}

std::string fetch_to_cache(const std::string& url, const FetchOptions& options) {
  const std::string name = url_file_name(url);
  if (name.empty() || name == "." || name == "..") fail(url, "the URL names no file");
  const std::string folder = options.cache_dir.empty() ? weights_cache_dir() : options.cache_dir;
  create_directories(folder);
  const std::string path = join_path(folder, name), partial = path + ".part";
  if (fs::exists(path)) return path;
  const FileLock lock(path + ".lock");
  if (fs::exists(path)) return path;  // another process fetched it while this one waited

  CURLcode result = CURLE_OK;
  long status = 0;
  std::string error;
  for (int attempt = 0; attempt < std::max(options.attempts, 1); ++attempt) {
    std::tie(result, status) = transfer_once(url, partial, options, error);
    // 416: the kept part is not a prefix the server can continue (the file changed there).
    if (result == CURLE_HTTP_RETURNED_ERROR && status == 416) result = CURLE_RANGE_ERROR;
    if (result == CURLE_RANGE_ERROR) fs::remove(partial);  // start over, whole
    if (!worth_retrying(result)) break;
  }
  if (result == CURLE_HTTP_RETURNED_ERROR) {
    fs::remove(partial);
    fail(url, "the server answered HTTP " + std::to_string(status) +
                  (status == 404 ? " (not found): check the URL" : ""));
  }
  if (result != CURLE_OK) {
    const bool offline = result == CURLE_COULDNT_RESOLVE_HOST || result == CURLE_COULDNT_CONNECT ||
                         result == CURLE_COULDNT_RESOLVE_PROXY;
    fail(url, "cannot download: " + error +
                  (offline ? " (no network? download the file by other means and give its path, "
                             "or put it at " +
                                 path + ")"
                           : " (what arrived is kept in " + partial +
                                 " and the next run resumes from it)"));
  }
  const std::string wanted = expected_sha256_prefix(name);
  if (!wanted.empty()) {
    const std::string digest = sha256_file_hex(partial);
    if (digest.rfind(wanted, 0) != 0) {
      fs::remove(partial);
      fail(url, "the download's SHA-256 is " + digest + ", but the file name says it starts " +
                    wanted + ": the file is corrupt or not the one named; deleted");
    }
  }
  fs::rename(partial, path);
  sync_parent_directory(path);
  return path;
}

}  // namespace mrcnn::io
