// libFuzzer target: the .pth reader (zip archives and the legacy format, both through our
// unpickler) on arbitrary bytes. Hostile input must end in mrcnn::Error, never in a crash,
// hang, stack overflow or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <span>

#include "mrcnn/common/error.h"
#include "mrcnn/io/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  try {
    (void)mrcnn::io::parse_torch_state_dict(std::span(data, size), "fuzz.pth");
  } catch (const mrcnn::Error&) {
  }
  return 0;
}
