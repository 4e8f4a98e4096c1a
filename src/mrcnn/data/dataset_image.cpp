#include "mrcnn/data/dataset_image.h"

#include <fmt/format.h>

#include <optional>

#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/parallel.h"

namespace mrcnn::data {
namespace {

ErrorLocation location(const std::string& path, const coco::Image& image) {
  return ErrorLocation{.file = path, .record = "image id " + std::to_string(image.id)};
}

void check_size(const std::string& path, const coco::Image& image, int64_t height, int64_t width) {
  if (height != image.height || width != image.width) {
    throw Error(location(path, image),
                fmt::format("the file is {}x{} but the annotations say {}x{} (width x height)",
                            width, height, image.width, image.height));
  }
}

}  // namespace

at::Tensor read_dataset_image(const ImageFolder& folder, const coco::Image& image) {
  const std::string path = join_path(folder.dir, image.file_name);
  at::Tensor rgb;
  try {
    rgb = io::decode_image_file(path, folder.max_pixels, folder.decode);
  } catch (const Error& e) {
    throw Error(location(path, image), e.message());
  }
  check_size(path, image, rgb.size(0), rgb.size(1));
  return rgb;
}

std::vector<ImageProblem> check_dataset_images(const coco::Dataset& dataset,
                                               const ImageFolder& folder,
                                               const std::vector<int64_t>& image_indices,
                                               int threads) {
  // Reading headers waits on the disk more than on a core: more threads than cores help.
  const int workers = resolve_thread_count(threads) * 4;
  std::vector<std::optional<std::string>> found(image_indices.size());
  parallel_for(image_indices.size(), workers, 16, [&](std::size_t k) {
    const coco::Image& image = dataset.images[static_cast<std::size_t>(image_indices[k])];
    const std::string path = join_path(folder.dir, image.file_name);
    try {
      const io::ImageHeader header = io::read_image_header(path, folder.max_pixels, folder.decode);
      check_size(path, image, header.height, header.width);
    } catch (const Error& e) {
      found[k] = Error(location(path, image), e.message()).what();
    }
  });
  std::vector<ImageProblem> problems;
  for (std::size_t k = 0; k < found.size(); ++k) {
    if (found[k]) problems.push_back({image_indices[k], *found[k]});
  }
  return problems;
}

void require_dataset_images(const coco::Dataset& dataset, const ImageFolder& folder, int threads) {
  std::vector<int64_t> all(dataset.images.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  const auto problems = check_dataset_images(dataset, folder, all, threads);
  if (!problems.empty()) {
    throw Error(ErrorLocation{.file = dataset.path},
                describe_image_problems(problems, static_cast<int64_t>(all.size())));
  }
}

std::string describe_image_problems(const std::vector<ImageProblem>& problems, int64_t checked,
                                    std::size_t listed) {
  std::string text = fmt::format("{} of {} images cannot be used:", problems.size(), checked);
  for (std::size_t k = 0; k < problems.size() && k < listed; ++k) {
    text += "\n  " + problems[k].message;
  }
  if (problems.size() > listed)
    text += fmt::format("\n  ... and {} more", problems.size() - listed);
  return text;
}

}  // namespace mrcnn::data
