// Test support: the message of the mrcnn::Error a call throws.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "mrcnn/common/error.h"

namespace mrcnn::testing {

// The message of the mrcnn::Error that `f` throws; fails the test if it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an mrcnn::Error";
  return {};
}

}  // namespace mrcnn::testing
