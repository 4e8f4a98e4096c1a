// SHA-256 digests (OpenSSL's), as lowercase hex: what `sha256sum` prints, so a user can check
// a served model's weights or a downloaded file against a published digest.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mrcnn {

std::string sha256_hex(std::span<const uint8_t> bytes);
// Reads the file in pieces (weights files run to hundreds of MB); errors name the file.
std::string sha256_file_hex(const std::string& path);

}  // namespace mrcnn
