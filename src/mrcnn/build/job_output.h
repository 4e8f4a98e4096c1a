// Where a job reports. The command-line program passes stdout, stderr and a progress bar; a
// C++ caller passes what it likes (nullptr: nothing is reported there).
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>

namespace mrcnn::build {

struct JobOutput {
  std::ostream* out = nullptr;    // results: the training log, evaluation tables
  std::ostream* notes = nullptr;  // what was loaded and where files went
  // Images done of total, while evaluating or inferring (done 0 when a pass starts).
  std::function<void(int64_t done, int64_t total)> progress;
};

}  // namespace mrcnn::build
