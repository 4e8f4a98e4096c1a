// Small string helpers shared across the library.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mrcnn {

// Classic Levenshtein distance (insert, delete, substitute all cost 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close enough to be a plausible typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::vector<std::string> split(std::string_view text, char separator);
std::string to_lower(std::string_view text);

}  // namespace mrcnn
