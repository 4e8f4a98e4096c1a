#include "mrcnn/io/image.h"

#include <png.h>
#include <turbojpeg.h>

#include <ATen/ATen.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/strings.h"
#include "mrcnn/io/exif.h"

namespace mrcnn::io {
namespace {

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

[[noreturn]] void fail(const std::string& name, const std::string& message) {
  throw Error(ErrorLocation{.file = name}, message);
}

bool is_jpeg(std::span<const uint8_t> b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}
bool is_png(std::span<const uint8_t> b) {
  static const uint8_t kMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return b.size() >= 8 && std::memcmp(b.data(), kMagic, 8) == 0;
}

// A header as parsed from the first bytes of a file, or why it did not parse.
struct ParsedHeader {
  ImageHeader size;
  int jpeg_colorspace = 0;
  std::string error;  // empty: parsed
};

ParsedHeader parse_jpeg_header(tjhandle handle, std::span<const uint8_t> bytes) {
  ParsedHeader h;
  int width = 0, height = 0, subsampling = 0;
  if (tjDecompressHeader3(handle, const_cast<unsigned char*>(bytes.data()),
                          static_cast<unsigned long>(bytes.size()), &width, &height, &subsampling,
                          &h.jpeg_colorspace) != 0) {
    h.error = std::string("corrupt JPEG header: ") + tjGetErrorStr2(handle);
  } else if (width <= 0 || height <= 0) {
    // What TurboJPEG reports when the data ends before the frame header.
    h.error = "corrupt or truncated JPEG: no image size before the data ends";
  }
  h.size = {height, width};
  return h;
}

ParsedHeader parse_png_header(std::span<const uint8_t> bytes) {
  ParsedHeader h;
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    h.size = {image.height, image.width};
  } else {
    h.error = std::string("corrupt PNG: ") + image.message;
  }
  png_image_free(&image);
  return h;
}

ParsedHeader parse_header(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (is_jpeg(bytes)) {
    TjHandle handle(tjInitDecompress());
    if (!handle) return {.error = "cannot initialise the JPEG decoder"};
    ParsedHeader header = parse_jpeg_header(handle.get(), bytes);
    if (options.exif_orientation && orientation_swaps_axes(jpeg_exif_orientation(bytes))) {
      std::swap(header.size.height, header.size.width);
    }
    return header;
  }
  if (is_png(bytes)) return parse_png_header(bytes);
  return {.error = bytes.empty() ? "empty image file" : "not a JPEG or PNG file"};
}

// Before any pixel buffer exists: the header alone decides.
void check_pixel_count(const std::string& name, ImageHeader size, int64_t max_pixels) {
  const int64_t pixels = size.height * size.width;
  if (max_pixels > 0 && pixels > max_pixels) {
    fail(name, "the image is " + std::to_string(size.width) + "x" + std::to_string(size.height) +
                   " (" + std::to_string(pixels) + " pixels), over the limit of " +
                   std::to_string(max_pixels) + " (max_image_pixels; 0 lifts it)");
  }
}

at::Tensor decode_jpeg(std::span<const uint8_t> bytes, const std::string& name, int64_t max_pixels,
                       const DecodeOptions& options) {
  TjHandle handle(tjInitDecompress());
  if (!handle) fail(name, "cannot initialise the JPEG decoder");
  const ParsedHeader header = parse_jpeg_header(handle.get(), bytes);
  if (!header.error.empty()) fail(name, header.error);
  check_pixel_count(name, header.size, max_pixels);
  const auto [height, width] = header.size;
  const bool cmyk = header.jpeg_colorspace == TJCS_CMYK || header.jpeg_colorspace == TJCS_YCCK;
  at::Tensor out = at::empty({height, width, cmyk ? 4 : 3}, at::kByte);
  const int status = tjDecompress2(
      handle.get(), const_cast<unsigned char*>(bytes.data()),
      static_cast<unsigned long>(bytes.size()), out.data_ptr<uint8_t>(), static_cast<int>(width), 0,
      static_cast<int>(height), cmyk ? TJPF_CMYK : TJPF_RGB, TJFLAG_ACCURATEDCT);
  if (status != 0) {
    const std::string why = tjGetErrorStr2(handle.get());
    // Warnings (e.g. extraneous bytes before a marker) leave a complete image, and COCO itself
    // has such files; a file cut short does not.
    const bool warning = tjGetErrorCode(handle.get()) == TJERR_WARNING;
    if (!warning || why.find("Premature end") != std::string::npos)
      fail(name, "corrupt or truncated JPEG: " + why);
  }
  if (cmyk) {
    // Adobe CMYK JPEGs store inverted ink values: R = C * K / 255 in stored units.
    at::Tensor ink = out.to(at::kInt);
    at::Tensor k = ink.select(2, 3).unsqueeze(2);
    out = ((ink.narrow(2, 0, 3) * k + 127) / 255).to(at::kByte).contiguous();
  }
  if (options.exif_orientation) out = apply_orientation(out, jpeg_exif_orientation(bytes));
  return out;
}

at::Tensor decode_png(std::span<const uint8_t> bytes, const std::string& name, int64_t max_pixels,
                      const DecodeOptions& options) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    const std::string why = image.message;
    png_image_free(&image);
    fail(name, "corrupt PNG: " + why);
  }
  try {
    check_pixel_count(name, {image.height, image.width}, max_pixels);
  } catch (...) {
    png_image_free(&image);
    throw;
  }
  // libpng converts grayscale and palette input; alpha is composited onto black, or read and
  // then dropped. 16-bit files are read as 16-bit values and scaled to 8 bits (as OpenCV
  // does), not gamma-converted.
  const bool sixteen_bit = (image.format & PNG_FORMAT_FLAG_LINEAR) != 0;
  // libpng gives 8-bit colour with alpha unpremultiplied (its 16-bit linear output would be
  // premultiplied): only then is dropping the alpha channel the stored colour.
  const bool keep_alpha =
      options.drop_alpha && !sixteen_bit && (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  image.format = sixteen_bit  ? PNG_FORMAT_LINEAR_RGB
                 : keep_alpha ? PNG_FORMAT_RGBA
                              : PNG_FORMAT_RGB;
  const int64_t h = image.height, w = image.width;
  at::Tensor out = at::empty({h, w, keep_alpha ? 4 : 3}, sixteen_bit ? at::kShort : at::kByte);
  png_color black{0, 0, 0};
  if (!png_image_finish_read(&image, &black, out.data_ptr(), 0, nullptr)) {
    const std::string why = image.message;
    png_image_free(&image);
    fail(name, "corrupt or truncated PNG: " + why);
  }
  if (sixteen_bit) {
    // uint16 stored in an int16 tensor: widen, then round v * 255 / 65535.
    const at::Tensor wide = out.to(at::kInt).bitwise_and(0xFFFF);
    out = ((wide * 255 + 32767) / 65535).to(at::kByte);
  }
  if (keep_alpha) out = out.narrow(2, 0, 3).contiguous();
  return out;
}

at::Tensor to_cpu_rgb(const at::Tensor& rgb) {
  TORCH_CHECK(rgb.dim() == 3 && rgb.size(2) == 3 && rgb.scalar_type() == at::kByte,
              "expected a uint8 [H, W, 3] image, got ", rgb.sizes(), " ", rgb.scalar_type());
  return rgb.to(at::kCPU).contiguous();
}

}  // namespace

at::Tensor decode_image(std::span<const uint8_t> bytes, const std::string& name, int64_t max_pixels,
                        const DecodeOptions& options) {
  if (is_jpeg(bytes)) return decode_jpeg(bytes, name, max_pixels, options);
  if (is_png(bytes)) return decode_png(bytes, name, max_pixels, options);
  fail(name, bytes.empty() ? "empty image file" : "not a JPEG or PNG file");
}

at::Tensor decode_image_file(const std::string& path, int64_t max_pixels,
                             const DecodeOptions& options) {
  return decode_image(read_file_bytes(path), path, max_pixels, options);
}

ImageHeader read_image_header(const std::string& path, int64_t max_pixels,
                              const DecodeOptions& options) {
  // Headers sit at the start of a file, after at most some metadata (EXIF, ICC profiles):
  // a first read of 64 KiB covers nearly every image; the whole file settles the others.
  constexpr std::size_t kFirstRead = 64 * 1024;
  std::size_t file_size = 0;
  std::vector<uint8_t> bytes = read_file_prefix(path, kFirstRead, &file_size);
  ParsedHeader header = parse_header(bytes, options);
  // An orientation tag sits before the frame header, so within what parsed it.
  if (!header.error.empty() && bytes.size() < file_size) {
    header = parse_header(read_file_bytes(path), options);
  }
  if (!header.error.empty()) fail(path, header.error);
  check_pixel_count(path, header.size, max_pixels);
  return header.size;
}

ImageHeader read_image_header(std::span<const uint8_t> bytes, const std::string& name,
                              int64_t max_pixels, const DecodeOptions& options) {
  const ParsedHeader header = parse_header(bytes, options);
  if (!header.error.empty()) fail(name, header.error);
  check_pixel_count(name, header.size, max_pixels);
  return header.size;
}

std::vector<uint8_t> encode_jpeg(const at::Tensor& rgb, int quality) {
  const at::Tensor image = to_cpu_rgb(rgb);
  TjHandle handle(tjInitCompress());
  TORCH_CHECK(handle, "cannot initialise the JPEG encoder");
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int status =
      tjCompress2(handle.get(), image.data_ptr<uint8_t>(), static_cast<int>(image.size(1)), 0,
                  static_cast<int>(image.size(0)), TJPF_RGB, &buffer, &size, TJSAMP_420, quality,
                  TJFLAG_ACCURATEDCT);
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(buffer, tjFree);
  TORCH_CHECK(status == 0, "JPEG encoding failed: ", tjGetErrorStr2(handle.get()));
  return std::vector<uint8_t>(buffer, buffer + size);
}

std::vector<uint8_t> encode_png(const at::Tensor& rgb) {
  const at::Tensor image = to_cpu_rgb(rgb);
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.size(1));
  png.height = static_cast<png_uint_32>(image.size(0));
  png.format = PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  TORCH_CHECK(
      png_image_write_to_memory(&png, nullptr, &size, 0, image.data_ptr<uint8_t>(), 0, nullptr),
      "PNG encoding failed: ", png.message);
  std::vector<uint8_t> out(size);
  TORCH_CHECK(
      png_image_write_to_memory(&png, out.data(), &size, 0, image.data_ptr<uint8_t>(), 0, nullptr),
      "PNG encoding failed: ", png.message);
  out.resize(size);
  return out;
}

void write_image_file(const at::Tensor& rgb, const std::string& path, int jpeg_quality) {
  const std::string extension = to_lower(std::filesystem::path(path).extension().string());
  if (extension == ".png") {
    write_file_atomically(path, encode_png(rgb));
  } else if (extension == ".jpg" || extension == ".jpeg") {
    write_file_atomically(path, encode_jpeg(rgb, jpeg_quality));
  } else {
    fail(path, "unknown image extension (use .jpg, .jpeg or .png)");
  }
}

}  // namespace mrcnn::io
