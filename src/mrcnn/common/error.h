// The project's error for bad user input (configs, json, images, command lines). It carries
// where the problem is -- a file, a line, a record -- so the user can go and fix it.
// Tensor contract violations inside the library use TORCH_CHECK instead.
#pragma once

#include <stdexcept>
#include <string>

namespace mrcnn {

struct ErrorLocation {
  std::string file;    // a path, or a pseudo-source such as "-o key=value"
  int line = 0;        // 1-based; 0 when unknown
  int column = 0;      // 1-based; 0 when unknown
  std::string record;  // e.g. "annotation id 42"; empty when not applicable

  std::string to_string() const;
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  Error(const ErrorLocation& where, const std::string& message);

  const ErrorLocation& where() const { return where_; }
  // The message without the location prefix.
  const std::string& message() const { return message_; }

 private:
  ErrorLocation where_;
  std::string message_;
};

}  // namespace mrcnn
