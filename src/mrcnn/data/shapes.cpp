#include "mrcnn/data/shapes.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <numbers>

#include "mrcnn/coco/rle.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/json_writer.h"
#include "mrcnn/io/image.h"

namespace mrcnn::data {
namespace {

namespace fs = std::filesystem;
using coco::Rle;

constexpr const char* kCategoryNames[] = {"circle", "square", "triangle"};

// splitmix64: tiny, and the same numbers on every platform (unlike std distributions).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * (double(next() >> 11) * 0x1.0p-53);
  }
  int64_t integer(int64_t lo, int64_t hi) {
    return lo + int64_t(next() % uint64_t(hi - lo + 1));
  }  // [lo, hi]

 private:
  uint64_t state_;
};

double round2(double v) { return std::round(v * 100.0) / 100.0; }

std::vector<double> shape_polygon(Random& rng, int category, double cx, double cy, double radius) {
  const int corners = category == 0 ? 28 : (category == 1 ? 4 : 3);
  const double rotation = rng.uniform(0, 2 * std::numbers::pi);
  std::vector<double> xy;
  for (int i = 0; i < corners; ++i) {
    const double angle = rotation + 2 * std::numbers::pi * i / corners;
    xy.push_back(round2(cx + radius * std::cos(angle)));
    xy.push_back(round2(cy + radius * std::sin(angle)));
  }
  return xy;
}

struct Object {
  int category;                 // 0-based
  std::vector<double> polygon;  // empty for crowd regions
  Rle full;                     // all pixels painted for it
  bool crowd = false;
};

std::array<uint8_t, 3> random_colour(Random& rng) {
  return {uint8_t(rng.integer(20, 235)), uint8_t(rng.integer(20, 235)),
          uint8_t(rng.integer(20, 235))};
}

void paint(uint8_t* pixels, const Rle& rle, int64_t width, std::array<uint8_t, 3> colour) {
  uint64_t position = 0;  // column-major
  bool on = false;
  for (uint32_t count : rle.counts) {
    if (on) {
      for (uint64_t p = position; p < position + count; ++p) {
        uint8_t* px = pixels + ((p % rle.height) * width + p / rle.height) * 3;
        px[0] = colour[0];
        px[1] = colour[1];
        px[2] = colour[2];
      }
    }
    position += count;
    on = !on;
  }
}

std::string number(double v) { return fmt::format("{}", v); }

std::string rle_counts_json(const Rle& rle) {
  std::string out = "[";
  for (std::size_t i = 0; i < rle.counts.size(); ++i)
    out += (i ? "," : "") + std::to_string(rle.counts[i]);
  return out + "]";
}

struct SplitWriter {
  std::string images_json, annotations_json;
  int64_t next_annotation_id = 1;
};

void make_image(Random& rng, const ShapesOptions& o, const std::string& split, int64_t image_id,
                SplitWriter& w, ShapesSummary& summary) {
  const std::string file = fmt::format("{:06d}.jpg", image_id);
  const int64_t width = o.width, height = o.height;
  const auto h = static_cast<uint32_t>(height), wd = static_cast<uint32_t>(width);
  // Background: a soft vertical gradient between two random colours.
  at::Tensor image = at::empty({height, width, 3}, at::kByte);
  uint8_t* pixels = image.data_ptr<uint8_t>();
  const auto top = random_colour(rng), bottom = random_colour(rng);
  for (int64_t y = 0; y < height; ++y) {
    const double t = double(y) / std::max<int64_t>(height - 1, 1);
    for (int64_t x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        pixels[(y * width + x) * 3 + c] = uint8_t(std::lround(top[c] * (1 - t) + bottom[c] * t));
  }

  std::vector<Object> objects;
  const bool empty = rng.uniform(0, 1) < 0.05;
  const int64_t count = empty ? 0 : rng.integer(1, 6);
  const double max_radius = std::min(width, height) / 4.0;
  for (int64_t i = 0; i < count; ++i) {
    Object object;
    object.category = int(rng.integer(0, 2));
    const double radius = std::exp(rng.uniform(std::log(6.0), std::log(max_radius)));
    const double cx = rng.uniform(radius * 0.5, width - radius * 0.5);
    const double cy = rng.uniform(radius * 0.5, height - radius * 0.5);
    object.polygon = shape_polygon(rng, object.category, cx, cy, radius);
    object.full = coco::rle_from_polygon(object.polygon, h, wd);
    if (coco::rle_area(object.full) == 0) continue;
    objects.push_back(std::move(object));
  }
  if (!empty && rng.uniform(0, 1) < 0.1) {
    // A crowd: a cluster of small objects of one kind, annotated as one region.
    Object crowd;
    crowd.category = int(rng.integer(0, 2));
    crowd.crowd = true;
    const double cx = rng.uniform(0.2 * width, 0.8 * width),
                 cy = rng.uniform(0.2 * height, 0.8 * height);
    std::vector<Rle> parts;
    for (int64_t i = 0, n = rng.integer(8, 16); i < n; ++i) {
      const double r = rng.uniform(2.5, 5.0);
      parts.push_back(coco::rle_from_polygon(
          shape_polygon(rng, crowd.category, cx + rng.uniform(-0.15, 0.15) * width,
                        cy + rng.uniform(-0.15, 0.15) * height, r),
          h, wd));
    }
    crowd.full = coco::rle_merge(parts, false);
    if (coco::rle_area(crowd.full) > 0) objects.push_back(std::move(crowd));
  }

  for (const auto& object : objects) paint(pixels, object.full, width, random_colour(rng));

  for (std::size_t i = 0; i < objects.size(); ++i) {
    const Object& object = objects[i];
    // Visible part: what later objects did not paint over.
    std::vector<Rle> later;
    for (std::size_t j = i + 1; j < objects.size(); ++j) later.push_back(objects[j].full);
    Rle visible = object.full;
    bool occluded = false;
    if (!later.empty()) {
      const Rle cover = coco::rle_merge(later, false);
      const std::vector<Rle> pair = {object.full, cover};
      occluded = coco::rle_area(coco::rle_merge(pair, true)) > 0;
      if (occluded) {
        std::vector<uint8_t> a(std::size_t(h) * wd), b(a.size());
        coco::rle_decode_column_major(object.full, a.data());
        coco::rle_decode_column_major(cover, b.data());
        for (std::size_t p = 0; p < a.size(); ++p) a[p] = a[p] && !b[p];
        visible = coco::rle_encode_column_major(a.data(), h, wd);
      }
    }
    const uint64_t area = coco::rle_area(visible);
    if (area == 0) continue;
    const auto box = coco::rle_to_bbox(visible);
    std::string segmentation;
    if (object.crowd) {
      segmentation =
          fmt::format(R"({{"size": [{}, {}], "counts": {}}})", h, wd, rle_counts_json(visible));
      ++summary.crowd_regions;
    } else if (occluded) {
      segmentation = fmt::format(R"({{"size": [{}, {}], "counts": "{}"}})", h, wd,
                                 json_escape(coco::rle_to_string(visible)));
      ++summary.occluded;
    } else {
      segmentation = "[[";
      for (std::size_t k = 0; k < object.polygon.size(); ++k)
        segmentation += (k ? ", " : "") + number(object.polygon[k]);
      segmentation += "]]";
    }
    w.annotations_json +=
        (w.annotations_json.empty() ? "\n  " : ",\n  ") +
        JsonObject()
            .add("id", w.next_annotation_id++)
            .add("image_id", image_id)
            .add("category_id", object.category + 1)
            .add_raw("bbox", fmt::format("[{}, {}, {}, {}]", number(box[0]), number(box[1]),
                                         number(box[2]), number(box[3])))
            .add("area", static_cast<int64_t>(area))
            .add("iscrowd", object.crowd ? 1 : 0)
            .add_raw("segmentation", segmentation)
            .str();
    ++summary.annotations;
  }
  if (objects.empty()) ++summary.empty_images;
  w.images_json += (w.images_json.empty() ? "\n  " : ",\n  ") + JsonObject()
                                                                    .add("id", image_id)
                                                                    .add("file_name", file)
                                                                    .add("width", width)
                                                                    .add("height", height)
                                                                    .str();
  ++summary.images;
  io::write_image_file(image, join_path(o.out_dir, split + "/" + file), 95);
}

}  // namespace

ShapesSummary make_shapes(const ShapesOptions& o) {
  if (o.width < 32 || o.height < 32 || o.width > 4096 || o.height > 4096) {
    throw Error("make-shapes: image size must be between 32x32 and 4096x4096");
  }
  if (o.train_images < 0 || o.val_images < 0) throw Error("make-shapes: image counts must be >= 0");
  ShapesSummary summary;
  create_directories(join_path(o.out_dir, "annotations"));
  std::string categories;
  for (int c = 0; c < 3; ++c) {
    categories += fmt::format(R"({}{{"id": {}, "name": "{}", "supercategory": "shape"}})",
                              c ? ", " : "", c + 1, kCategoryNames[c]);
  }
  for (const auto& [name, n] :
       {std::pair<std::string, int64_t>{"train", o.train_images}, {"val", o.val_images}}) {
    const std::string split = name + o.split_suffix;
    create_directories(join_path(o.out_dir, split));
    // Each split has its own stream, so the val set does not change with the train size.
    Random rng(o.seed * 0x100000001B3ull + (name == "train" ? 1 : 2));
    SplitWriter writer;
    for (int64_t i = 0; i < n; ++i) {
      make_image(rng, o, split, i + 1, writer, summary);
    }
    const std::string json =
        fmt::format("{{\"images\": [{}\n], \"annotations\": [{}\n], \"categories\": [{}]}}\n",
                    writer.images_json, writer.annotations_json, categories);
    const std::string path = join_path(o.out_dir, "annotations/instances_" + split + ".json");
    write_file_atomically(path, json);
  }
  return summary;
}

}  // namespace mrcnn::data
