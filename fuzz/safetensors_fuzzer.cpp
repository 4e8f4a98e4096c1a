// libFuzzer target: the safetensors reader (weights, checkpoints) on arbitrary bytes. Whatever
// the header claims -- shapes, dtypes, byte ranges -- the result is tensors or mrcnn::Error,
// never a crash, an allocation beyond the input, or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <span>

#include "mrcnn/common/error.h"
#include "mrcnn/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  try {
    (void)mrcnn::io::parse_safetensors(std::span(data, size), "fuzz.safetensors");
  } catch (const mrcnn::Error&) {
  }
  return 0;
}
