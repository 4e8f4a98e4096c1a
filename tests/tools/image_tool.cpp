// Test helper for the reference tests:
//   image_tool IN OUT.png               decodes an image file with our decoder, writes it as PNG
//   image_tool --paddle IN OUT.png      the same, decoding as under paddle arithmetic (EXIF
//                                       orientation applied, alpha dropped); prints the size
//                                       the header reports, "h w"
//   image_tool size H W SHORT MAX ROUNDING
//       the size our preprocessing resizes an H x W image to (short side SHORT, long side at
//       most MAX, ROUNDING "nearest" or "floor"): "h w"
#include <iostream>
#include <string>

#include "mrcnn/data/transforms.h"
#include "mrcnn/io/image.h"

int main(int argc, char** argv) {
  using namespace mrcnn;
  try {
    if (argc == 7 && std::string(argv[1]) == "size") {
      data::TransformOptions options;
      options.target_sizes = {{std::stoll(argv[4]), std::stoll(argv[5])}};
      options.size_rounding = std::string(argv[6]) == "floor" ? data::SizeRounding::kFloor
                                                              : data::SizeRounding::kNearest;
      const auto size =
          data::fixed_geometry({std::stoll(argv[2]), std::stoll(argv[3])}, options).size;
      std::cout << size[0] << " " << size[1] << "\n";
      return 0;
    }
    if (argc == 4 && std::string(argv[1]) == "--paddle") {
      const io::DecodeOptions paddle{.exif_orientation = true, .drop_alpha = true};
      const io::ImageHeader header = io::read_image_header(argv[2], 0, paddle);
      io::write_image_file(io::decode_image_file(argv[2], 0, paddle), argv[3]);
      std::cout << header.height << " " << header.width << "\n";
      return 0;
    }
    if (argc == 3) {
      io::write_image_file(io::decode_image_file(argv[1]), argv[2]);
      return 0;
    }
    std::cerr << "usage: image_tool IN OUT.png | image_tool size H W SHORT MAX ROUNDING\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
