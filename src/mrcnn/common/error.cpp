#include "mrcnn/common/error.h"

namespace mrcnn {

std::string ErrorLocation::to_string() const {
  std::string out = file;
  if (line > 0) {
    out.append(":").append(std::to_string(line));
    if (column > 0) out.append(":").append(std::to_string(column));
  }
  if (!record.empty()) {
    if (!out.empty()) out.append(": ");
    out.append(record);
  }
  return out;
}

Error::Error(const std::string& message) : std::runtime_error(message), message_(message) {}

Error::Error(const ErrorLocation& where, const std::string& message)
    : std::runtime_error(where.to_string().empty() ? message : where.to_string() + ": " + message),
      where_(where),
      message_(message) {}

}  // namespace mrcnn
