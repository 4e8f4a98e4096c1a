// Process-wide memory: the allocator setting detection wants, and the host's peak memory.
#pragma once

namespace mrcnn {

// Detection allocates and frees many large activation buffers per image. glibc hands blocks
// above its mmap threshold back to the kernel on every free, so each new one costs page faults
// (measured: ~15% of CPU inference time). Keeping such blocks in the heap avoids that.
void keep_freed_memory_for_reuse();

// The peak resident memory of this process so far, in MiB (the host's: device memory is
// reported by runtime/device_memory.h).
double host_peak_rss_mib();

}  // namespace mrcnn
