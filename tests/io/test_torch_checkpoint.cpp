// The .pth reader on hostile pickles: refused with an error, never a crash (the fuzz target
// in fuzz/ explores the rest).
#include <gtest/gtest.h>

#include <string>

#include "mrcnn/common/error.h"
#include "mrcnn/io/torch_checkpoint.h"

namespace mrcnn::io {
namespace {

std::string error_of(const std::string& pickle) {
  const std::vector<uint8_t> bytes(pickle.begin(), pickle.end());
  try {
    parse_torch_state_dict(bytes, "hostile.pth");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return {};
}

TEST(TorchCheckpoint, DeeplyNestedListsAreRefusedWithoutRecursion) {
  // PROTO 2, 200000 empty lists, each appended to the one before: 200000 levels deep.
  const int depth = 200000;
  const std::string pickle =
      std::string("\x80\x02") + std::string(depth, ']') + std::string(depth - 1, 'a') + ".";
  const std::string message = error_of(pickle);
  EXPECT_NE(message.find("nests containers"), std::string::npos) << message;
  EXPECT_NE(message.find("hostile.pth"), std::string::npos) << message;
}

TEST(TorchCheckpoint, AListInsideItselfIsFreedAndRefused) {
  // [] memoised, fetched back and appended to itself.
  EXPECT_NE(error_of(std::string("\x80\x02]q\x00h\x00"
                                 "a.",
                                 9))
                .find("not a PyTorch checkpoint"),
            std::string::npos);
}

TEST(TorchCheckpoint, OpcodesOnAnEmptyStackAreErrors) {
  for (const char* op : {"a", "e", "s", "u", "b", "q\x00", "\x94"}) {
    const std::string message = error_of(std::string("\x80\x02") + op + ".");
    EXPECT_NE(message.find("malformed pickle"), std::string::npos) << op << ": " << message;
  }
  EXPECT_NE(error_of("").find("pickle ends unexpectedly"), std::string::npos);
}

}  // namespace
}  // namespace mrcnn::io
