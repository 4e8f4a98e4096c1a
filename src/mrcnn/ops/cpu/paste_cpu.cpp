// Thresholded mask pasting on the CPU: detections in parallel, each region's column sources
// computed once and reused by every row.
#include <ATen/Parallel.h>

#include "mrcnn/ops/cpu/kernels.h"
#include "mrcnn/ops/paste_math.h"

namespace mrcnn::ops::cpu {

void paste_binary(const at::Tensor& probabilities, const std::vector<MaskRegion>& regions,
                  float threshold, uint8_t* out) {
  require_device_type(probabilities, c10::kCPU, "cpu::paste_binary");
  const int64_t m = probabilities.size(-1);
  const float* masks = probabilities.data_ptr<float>();
  at::parallel_for(0, static_cast<int64_t>(regions.size()), 1, [&](int64_t begin, int64_t end) {
    std::vector<detail::LinearSource> columns;
    for (int64_t i = begin; i < end; ++i) {
      const MaskRegion& r = regions[i];
      const float* mask = masks + i * m * m;
      columns.resize(r.w);
      for (int64_t c = 0; c < r.w; ++c)
        columns[c] = detail::linear_source(r.x0 - r.box_x0 + c, m + 2, r.box_w);
      uint8_t* row_out = out + r.offset;
      for (int64_t row = 0; row < r.h; ++row, row_out += r.w) {
        const detail::LinearSource y = detail::linear_source(r.y0 - r.box_y0 + row, m + 2, r.box_h);
        for (int64_t c = 0; c < r.w; ++c)
          row_out[c] = detail::pasted_value(mask, m, y, columns[c]) > threshold ? 1 : 0;
      }
    }
  });
}

}  // namespace mrcnn::ops::cpu
