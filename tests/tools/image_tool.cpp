// Test helper: decodes an image file with our decoder and writes it as PNG.
//   image_tool IN OUT.png
#include <iostream>

#include "mrcnn/io/image.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: image_tool IN OUT.png\n";
    return 2;
  }
  try {
    mrcnn::io::write_image_file(mrcnn::io::decode_image_file(argv[1]), argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
