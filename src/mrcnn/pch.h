// Precompiled header for the LibTorch-heavy translation units. Only stable third-party
// headers belong here; our own headers change too often.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
