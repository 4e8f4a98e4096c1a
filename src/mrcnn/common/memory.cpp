#include "mrcnn/common/memory.h"

#include <malloc.h>
#include <sys/resource.h>

namespace mrcnn {

void keep_freed_memory_for_reuse() {
  // Serve large blocks from the heap (not fresh mmaps) and do not trim the heap eagerly.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

double host_peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace mrcnn
