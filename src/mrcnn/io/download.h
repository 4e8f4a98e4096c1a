// Weights named by URL (PaddleDetection's configs name their ImageNet backbones so), fetched
// once into a cache with libcurl: resumed where an earlier or interrupted transfer stopped,
// written under a temporary name and renamed when complete, and checked against the SHA-256
// prefix that torchvision-style names carry ("resnet50-0676ba61.pth"). Processes fetching the
// same file at once (the ranks of a launch) take turns: one downloads, the others find it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace mrcnn::io {

bool is_url(const std::string& path);

// $MRCNN_HOME/weights, else $XDG_CACHE_HOME/mrcnn/weights, else ~/.cache/mrcnn/weights.
std::string weights_cache_dir();

struct FetchOptions {
  std::string cache_dir;  // empty: weights_cache_dir()
  // Told of the bytes so far and the total (0 when the server does not say); empty: a
  // progress line on stderr about once a second.
  std::function<void(int64_t done, int64_t total)> progress;
  int attempts = 4;  // transfers in all, each resuming where the last stopped
};

// The local file for `url`: the cached one if there is one, else downloaded first. Errors
// (mrcnn::Error) name the URL: an HTTP error status, no network, a checksum that does not
// match (the download is then deleted), a cache folder that cannot be written.
std::string fetch_to_cache(const std::string& url, const FetchOptions& options = {});

}  // namespace mrcnn::io
