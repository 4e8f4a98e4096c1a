// Test helper: runs our ops on raw little-endian arrays written by the reference tests.
//   ops_tool roi_align IN.f32 N C H W ROIS.f32 K PH PW SCALE SAMPLING ALIGNED GRAD.f32 OUT.f32
//   GRAD_IN.f32
//     forward output to OUT, and the input gradient for the output gradient GRAD to GRAD_IN
//   ops_tool nms BOXES.f32 N SCORES.f32 IOU OUT.i64
#include <ATen/ATen.h>

#include <fstream>
#include <iostream>
#include <string>

#include "mrcnn/ops/nms.h"
#include "mrcnn/ops/roi_align.h"

namespace {

at::Tensor read(const std::string& path, at::IntArrayRef sizes) {
  at::Tensor t = at::empty(sizes, at::kFloat);
  std::ifstream file(path, std::ios::binary);
  file.read(reinterpret_cast<char*>(t.data_ptr<float>()),
            std::streamsize(t.numel() * sizeof(float)));
  if (!file) throw std::runtime_error("cannot read " + path);
  return t;
}

void write(const std::string& path, const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  std::ofstream(path, std::ios::binary)
      .write(static_cast<const char*>(c.data_ptr()), std::streamsize(c.numel() * c.element_size()));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string op = argc > 1 ? argv[1] : "";
    auto arg = [&](int i) { return std::stoll(argv[i]); };
    if (op == "roi_align" && argc == 17) {
      const at::Tensor input = read(argv[2], {arg(3), arg(4), arg(5), arg(6)}).requires_grad_(true);
      const at::Tensor rois = read(argv[7], {arg(8), 5});
      const mrcnn::ops::RoIAlignOptions options{arg(9), arg(10), std::stod(argv[11]), arg(12),
                                                arg(13) != 0};
      const at::Tensor output = mrcnn::ops::roi_align(input, rois, options);
      output.backward(read(argv[14], output.sizes()));
      write(argv[15], output.detach());
      write(argv[16], input.grad());
      return 0;
    }
    if (op == "nms" && argc == 7) {
      const at::Tensor boxes = read(argv[2], {arg(3), 4});
      const at::Tensor scores = read(argv[4], {arg(3)});
      write(argv[6], mrcnn::ops::nms(boxes, scores, std::stod(argv[5])));
      return 0;
    }
    std::cerr << "usage: see the comment at the top of ops_tool.cpp\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
