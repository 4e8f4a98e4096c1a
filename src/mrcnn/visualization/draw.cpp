#include "mrcnn/visualization/draw.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace mrcnn::visualization {
namespace {

struct Glyph {
  char c;
  uint8_t rows[7];        // 5 bits per row, most significant bit on the left
  bool descends = false;  // drawn two rows lower: the tails of g, p, q, y below the line
};

// A 5x7 font: letters, digits and a little punctuation.
constexpr Glyph kFont[] = {
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F}},
    {'b', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}},
    {'c', {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E}},
    {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
    {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}},
    {'g', {0x0F, 0x11, 0x11, 0x0F, 0x01, 0x11, 0x0E}, true},
    {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E}},
    {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
    {'l', {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}},
    {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}},
    {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E}},
    {'p', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}, true},
    {'q', {0x0F, 0x11, 0x11, 0x0F, 0x01, 0x01, 0x01}, true},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}},
    {'s', {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E}},
    {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}},
    {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D}},
    {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A}},
    {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}},
    {'y', {0x11, 0x11, 0x11, 0x0F, 0x01, 0x11, 0x0E}, true},
    {'z', {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
    {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
};

const Glyph& glyph(char c) {
  for (const auto& g : kFont) {
    if (g.c == c) return g;
  }
  return kFont[std::size(kFont) - 1];
}

void put(at::Tensor& image, int64_t x, int64_t y, Colour colour) {
  const int64_t h = image.size(0), w = image.size(1);
  if (x < 0 || y < 0 || x >= w || y >= h) return;
  uint8_t* p = image.data_ptr<uint8_t>() + (y * w + x) * 3;
  p[0] = colour[0];
  p[1] = colour[1];
  p[2] = colour[2];
}

}  // namespace

Colour category_colour(int64_t id) {
  // Golden-ratio hue steps give well separated colours for consecutive ids.
  const double hue = std::fmod(0.13 + 0.618033988749895 * static_cast<double>(id), 1.0) * 6.0;
  const double s = 0.75, v = 0.95;
  const int sector = static_cast<int>(hue);
  const double f = hue - sector, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (sector) {
    case 1:
      r = q, g = v, b = p;
      break;
    case 2:
      r = p, g = v, b = t;
      break;
    case 3:
      r = p, g = q, b = v;
      break;
    case 4:
      r = t, g = p, b = v;
      break;
    case 5:
      r = v, g = p, b = q;
      break;
    default:
      break;
  }
  return {static_cast<uint8_t>(r * 255), static_cast<uint8_t>(g * 255),
          static_cast<uint8_t>(b * 255)};
}

void blend_mask(at::Tensor& image, const coco::Rle& mask, Colour colour, double alpha) {
  const int64_t w = image.size(1);
  uint8_t* pixels = image.data_ptr<uint8_t>();
  uint64_t position = 0;  // column-major, as the RLE
  bool on = false;
  for (uint32_t count : mask.counts) {
    if (on) {
      for (uint64_t p = position; p < position + count; ++p) {
        uint8_t* px = pixels + ((p % mask.height) * w + p / mask.height) * 3;
        for (int c = 0; c < 3; ++c)
          px[c] = static_cast<uint8_t>(std::lround(px[c] * (1 - alpha) + colour[c] * alpha));
      }
    }
    position += count;
    on = !on;
  }
}

void draw_box(at::Tensor& image, const std::array<double, 4>& box, Colour colour, int thickness) {
  const int64_t x1 = std::lround(box[0]), y1 = std::lround(box[1]), x2 = std::lround(box[2]),
                y2 = std::lround(box[3]);
  for (int t = 0; t < thickness; ++t) {
    for (int64_t x = x1; x <= x2; ++x) {
      put(image, x, y1 + t, colour);
      put(image, x, y2 - t, colour);
    }
    for (int64_t y = y1; y <= y2; ++y) {
      put(image, x1 + t, y, colour);
      put(image, x2 - t, y, colour);
    }
  }
}

void draw_line(at::Tensor& image, double x0, double y0, double x1, double y1, Colour colour) {
  const double steps = std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)));
  if (!std::isfinite(steps)) return;
  for (int64_t i = 0; i <= static_cast<int64_t>(steps); ++i) {
    const double t = steps > 0 ? double(i) / steps : 0.0;
    put(image, std::lround(x0 + (x1 - x0) * t), std::lround(y0 + (y1 - y0) * t), colour);
  }
}

void draw_caption(at::Tensor& image, int64_t x, int64_t y, const std::string& text,
                  Colour background, int scale) {
  const int64_t advance = 6 * scale, height = 10 * scale;
  const int64_t width = static_cast<int64_t>(text.size()) * advance + scale;
  // Keep the caption inside the image where possible.
  x = std::clamp<int64_t>(x, 0, std::max<int64_t>(image.size(1) - width, 0));
  y = std::clamp<int64_t>(y, 0, std::max<int64_t>(image.size(0) - height, 0));
  for (int64_t dy = 0; dy < height; ++dy)
    for (int64_t dx = 0; dx < width; ++dx) put(image, x + dx, y + dy, background);
  const int luminance = (299 * background[0] + 587 * background[1] + 114 * background[2]) / 1000;
  const Colour ink = luminance > 140 ? Colour{0, 0, 0} : Colour{255, 255, 255};
  for (std::size_t i = 0; i < text.size(); ++i) {
    const Glyph& g = glyph(text[i]);
    const int drop = g.descends ? 2 : 0;
    for (int row = 0; row < 7; ++row)
      for (int col = 0; col < 5; ++col) {
        if (!((g.rows[row] >> (4 - col)) & 1)) continue;
        for (int sy = 0; sy < scale; ++sy)
          for (int sx = 0; sx < scale; ++sx)
            put(image, x + scale + static_cast<int64_t>(i) * advance + col * scale + sx,
                y + scale + (row + drop) * scale + sy, ink);
      }
  }
}

void draw_detections(at::Tensor& image, const structures::Instances& detections,
                     const structures::LabelMap& labels, double min_score) {
  const at::Tensor scores = detections.scores.to(at::kDouble).contiguous();
  const at::Tensor boxes = detections.boxes.to(at::kDouble).contiguous();
  const at::Tensor classes = detections.labels.contiguous();
  const int64_t n = scores.numel();
  std::vector<int64_t> shown;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t category = labels.category_of(classes.data_ptr<int64_t>()[k]);
    if (category >= 0 && scores.data_ptr<double>()[k] >= min_score) shown.push_back(k);
  }
  for (int64_t k : shown) {
    const int64_t category = labels.category_of(classes.data_ptr<int64_t>()[k]);
    blend_mask(image, detections.mask_rles.at(k), category_colour(category));
  }
  for (int64_t k : shown) {
    const int64_t category = labels.category_of(classes.data_ptr<int64_t>()[k]);
    const Colour colour = category_colour(category);
    const double* b = boxes.data_ptr<double>() + 4 * k;
    draw_box(image, {b[0], b[1], b[2], b[3]}, colour);
    draw_caption(
        image, static_cast<int64_t>(b[0]), static_cast<int64_t>(b[1]) - 18,
        fmt::format("{} {:.2f}", labels.category_name(category), scores.data_ptr<double>()[k]),
        colour);
  }
}

namespace {

// One object to outline and caption in a picture.
struct Outlined {
  std::array<double, 4> box;
  int64_t category;
  std::string caption;
};

// The picture enlarged by `factor` (whole pixels), with each object's box and caption drawn
// at the enlarged size, so that captions keep their size whatever the image's.
at::Tensor enlarge_and_outline(const at::Tensor& picture, int64_t factor,
                               const std::vector<Outlined>& objects) {
  at::Tensor out =
      factor == 1 ? picture.clone()
                  : picture.repeat_interleave(factor, 0).repeat_interleave(factor, 1).contiguous();
  const auto f = static_cast<double>(factor);
  for (const Outlined& o : objects) {
    draw_box(out, {o.box[0] * f, o.box[1] * f, o.box[2] * f, o.box[3] * f},
             category_colour(o.category));
  }
  for (const Outlined& o : objects) {
    draw_caption(out, std::lround(o.box[0] * f), std::lround(o.box[1] * f) - 12, o.caption,
                 category_colour(o.category), 1);
  }
  return out;
}

}  // namespace

at::Tensor draw_truth_beside_predictions(const at::Tensor& image,
                                         const std::vector<TruthObject>& truth,
                                         const structures::Instances& detections,
                                         const structures::LabelMap& labels, double min_score) {
  at::Tensor left = image.contiguous().clone(), right = image.contiguous().clone();
  std::vector<Outlined> truth_outlines, found_outlines;
  for (const TruthObject& object : truth) {
    blend_mask(left, object.mask, category_colour(object.category_id));
    truth_outlines.push_back(
        {object.box_xyxy, object.category_id, labels.category_name(object.category_id)});
  }
  const at::Tensor scores = detections.scores.to(at::kDouble).contiguous();
  const at::Tensor boxes = detections.boxes.to(at::kDouble).contiguous();
  const at::Tensor classes = detections.labels.contiguous();
  for (int64_t k = 0; k < scores.numel(); ++k) {
    const double score = scores.data_ptr<double>()[k];
    const int64_t category = labels.category_of(classes.data_ptr<int64_t>()[k]);
    if (category < 0 || score < min_score) continue;
    blend_mask(right, detections.mask_rles.at(static_cast<std::size_t>(k)),
               category_colour(category));
    const double* b = boxes.data_ptr<double>() + 4 * k;
    found_outlines.push_back({{b[0], b[1], b[2], b[3]},
                              category,
                              fmt::format("{} {:.2f}", labels.category_name(category), score)});
  }

  // Small images are enlarged so that a picture is about 480 pixels on its longer side.
  const int64_t longest = std::max(image.size(0), image.size(1));
  const int64_t factor = std::max<int64_t>(1, 480 / std::max<int64_t>(longest, 1));
  left = enlarge_and_outline(left, factor, truth_outlines);
  right = enlarge_and_outline(right, factor, found_outlines);
  constexpr int64_t kBar = 22, kGap = 8;
  const int64_t h = left.size(0), w = left.size(1);
  at::Tensor out = at::full({h + kBar, 2 * w + kGap, 3}, 255, at::kByte);
  out.slice(0, kBar).slice(1, 0, w).copy_(left);
  out.slice(0, kBar).slice(1, w + kGap).copy_(right);
  const Colour bar{235, 235, 235};
  draw_caption(out, 4, 4, fmt::format("ground truth: {} objects", truth.size()), bar, 1);
  draw_caption(
      out, w + kGap + 4, 4,
      fmt::format("predictions with score >= {:.2f}: {}", min_score, found_outlines.size()), bar,
      1);
  return out;
}

}  // namespace mrcnn::visualization
