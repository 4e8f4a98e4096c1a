// COCO run-length encoding. The arithmetic (integer types, rounding, operation order) follows
// the COCO API's maskApi.c on purpose: scores are only comparable if masks are identical.
#include "mrcnn/coco/rle.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "mrcnn/common/error.h"

namespace mrcnn::coco {

Rle rle_encode_column_major(const uint8_t* mask, uint32_t height, uint32_t width) {
  Rle rle{height, width, {}};
  const uint64_t n = uint64_t(height) * width;
  uint8_t previous = 0;
  uint32_t run = 0;
  for (uint64_t j = 0; j < n; ++j) {
    const uint8_t value = mask[j] != 0;
    if (value != previous) {
      rle.counts.push_back(run);
      run = 0;
      previous = value;
    }
    ++run;
  }
  rle.counts.push_back(run);
  return rle;
}

Rle rle_encode_region(const uint8_t* region, uint32_t rh, uint32_t rw, uint32_t x0, uint32_t y0,
                      uint32_t height, uint32_t width) {
  Rle rle{height, width, {}};
  bool previous = false;
  uint32_t run = 0;
  auto zeros = [&](uint64_t n) {
    if (n == 0) return;
    if (previous) {
      rle.counts.push_back(run);
      run = 0;
      previous = false;
    }
    run += static_cast<uint32_t>(n);
  };
  zeros(uint64_t(x0) * height);
  for (uint32_t x = 0; x < rw; ++x) {
    zeros(y0);
    for (uint32_t y = 0; y < rh; ++y) {
      const bool value = region[uint64_t(y) * rw + x] != 0;
      if (value != previous) {
        rle.counts.push_back(run);
        run = 0;
        previous = value;
      }
      ++run;
    }
    zeros(height - y0 - rh);
  }
  zeros(uint64_t(width - x0 - rw) * height);
  rle.counts.push_back(run);
  return rle;
}

Rle rle_encode_row_major(const uint8_t* mask, uint32_t height, uint32_t width) {
  return rle_encode_region(mask, height, width, 0, 0, height, width);
}

void rle_decode_column_major(const Rle& rle, uint8_t* mask) {
  rle_check(rle);
  uint8_t value = 0;
  for (uint32_t count : rle.counts) {
    std::fill_n(mask, count, value);
    mask += count;
    value = !value;
  }
}

void rle_decode_row_major(const Rle& rle, uint8_t* mask) {
  rle_check(rle);
  uint64_t position = 0;  // column-major index
  uint8_t value = 0;
  for (uint32_t count : rle.counts) {
    for (uint32_t i = 0; i < count; ++i, ++position) {
      const uint64_t x = position / rle.height;
      const uint64_t y = position % rle.height;
      mask[y * rle.width + x] = value;
    }
    value = !value;
  }
}

void rle_check(const Rle& rle) {
  uint64_t total = 0;
  for (uint32_t c : rle.counts) total += c;
  const uint64_t expected = uint64_t(rle.height) * rle.width;
  if (total != expected) {
    throw Error("RLE counts add up to " + std::to_string(total) + " pixels, but the mask is " +
                std::to_string(rle.height) + "x" + std::to_string(rle.width) + " = " +
                std::to_string(expected));
  }
}

std::string rle_to_string(const Rle& rle) {
  // Each count (after the first two, as a difference to the count two back) is written as
  // 5-bit groups, least significant first, in characters from '0' (48); bit 0x20 says "more".
  std::string out;
  out.reserve(rle.counts.size() * 2);
  for (std::size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= int64_t(rle.counts[i - 2]);
    bool more = true;
    while (more) {
      int64_t c = x & 0x1f;
      x >>= 5;  // arithmetic shift: negative differences keep their sign
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      out.push_back(static_cast<char>(c + 48));
    }
  }
  return out;
}

Rle rle_from_string(std::string_view text, uint32_t height, uint32_t width) {
  Rle rle{height, width, {}};
  std::size_t p = 0;
  while (p < text.size()) {
    int64_t x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= text.size()) throw Error("RLE string ends inside a count");
      const int c = static_cast<unsigned char>(text[p]) - 48;
      if (c < 0 || c > 63) {
        throw Error("RLE string has an invalid character at offset " + std::to_string(p));
      }
      if (k >= 12) throw Error("RLE string has a count too long at offset " + std::to_string(p));
      x |= int64_t(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      ++p;
      ++k;
      if (!more && (c & 0x10)) x |= int64_t(-1) * (int64_t(1) << (5 * k));  // sign extension
    }
    if (rle.counts.size() > 2) x += int64_t(rle.counts[rle.counts.size() - 2]);
    if (x < 0 || x > int64_t(UINT32_MAX)) {
      throw Error("RLE string decodes to an invalid count " + std::to_string(x) + " (count #" +
                  std::to_string(rle.counts.size()) + ")");
    }
    rle.counts.push_back(static_cast<uint32_t>(x));
  }
  rle_check(rle);
  return rle;
}

uint64_t rle_area(const Rle& rle) {
  uint64_t area = 0;
  for (std::size_t i = 1; i < rle.counts.size(); i += 2) area += rle.counts[i];
  return area;
}

std::array<double, 4> rle_to_bbox(const Rle& rle) {
  const uint32_t h = rle.height;
  const uint32_t w = rle.width;
  const std::size_t m = (rle.counts.size() / 2) * 2;
  if (m == 0 || h == 0) return {0, 0, 0, 0};
  uint32_t xs = w, ys = h, xe = 0, ye = 0, xp = 0;
  // (cx, cy): column and row of the running sum cc of counts, kept without dividing per run
  // (runs shorter than a column need no division at all). COCO's rleToBbox computes
  // t = cc - j % 2, y = t % h, x = t / h.
  uint32_t cx = 0, cy = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const uint32_t c = rle.counts[j];
    if (c < h) {
      cy += c;
      if (cy >= h) {
        cy -= h;
        ++cx;
      }
    } else {
      cx += c / h;
      cy += c % h;
      if (cy >= h) {
        cy -= h;
        ++cx;
      }
    }
    uint32_t x = cx, y = cy;
    if (j % 2 == 1) {  // the last pixel of a run of ones
      if (y == 0) {
        --x;
        y = h - 1;
      } else {
        --y;
      }
    }
    if (j % 2 == 0) {
      xp = x;
    } else if (xp < x) {
      // The run wraps into the next column: it spans the full height.
      ys = 0;
      ye = h - 1;
    }
    xs = std::min(xs, x);
    xe = std::max(xe, x);
    ys = std::min(ys, y);
    ye = std::max(ye, y);
  }
  return {double(xs), double(ys), double(xe - xs + 1), double(ye - ys + 1)};
}

Rle rle_merge(std::span<const Rle> rles, bool intersect) {
  if (rles.empty()) return Rle{};
  if (rles.size() == 1) return rles[0];
  const uint32_t h = rles[0].height;
  const uint32_t w = rles[0].width;
  std::vector<uint32_t> merged = rles[0].counts;
  std::vector<uint32_t> next;
  for (std::size_t i = 1; i < rles.size(); ++i) {
    const Rle& b = rles[i];
    if (b.height != h || b.width != w) {
      throw Error("cannot merge masks of different sizes (" + std::to_string(h) + "x" +
                  std::to_string(w) + " and " + std::to_string(b.height) + "x" +
                  std::to_string(b.width) + ")");
    }
    const std::vector<uint32_t>& a = merged;
    next.clear();
    uint32_t ca = a[0], cb = b.counts[0], cc = 0, ct = 1;
    bool v = false, va = false, vb = false;
    std::size_t ia = 1, ib = 1;
    while (ct > 0) {
      const uint32_t c = std::min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && ia < a.size()) {
        ca = a[ia++];
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && ib < b.counts.size()) {
        cb = b.counts[ib++];
        vb = !vb;
      }
      ct += cb;
      const bool vp = v;
      v = intersect ? (va && vb) : (va || vb);
      if (v != vp || ct == 0) {
        next.push_back(cc);
        cc = 0;
      }
    }
    merged.swap(next);
  }
  return Rle{h, w, std::move(merged)};
}

namespace {

// C's double -> int conversion as x86 performs it (pycocotools is C on x86): NaN and values
// out of range become INT_MIN. Written out because in C++ those conversions are undefined.
int c_int(double v) {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return std::numeric_limits<int>::min();
  return static_cast<int>(v);
}

}  // namespace

Rle rle_from_polygon(std::span<const double> xy, uint32_t height, uint32_t width) {
  // Upsample by 5, walk the boundary densely, keep the points where it crosses pixel columns,
  // and turn those into run boundaries. Integer casts truncate as in C.
  const double scale = 5;
  const std::size_t k = xy.size() / 2;
  if (k == 0) return Rle{height, width, {height * width}};
  const int h = static_cast<int>(height);
  const int w = static_cast<int>(width);
  std::vector<int> x(k + 1), y(k + 1);
  for (std::size_t j = 0; j < k; ++j) x[j] = c_int(scale * xy[j * 2 + 0] + .5);
  x[k] = x[0];
  for (std::size_t j = 0; j < k; ++j) y[j] = c_int(scale * xy[j * 2 + 1] + .5);
  y[k] = y[0];

  int64_t m = 0;
  for (std::size_t j = 0; j < k; ++j) {
    m += std::max(std::abs(int64_t(x[j]) - x[j + 1]), std::abs(int64_t(y[j]) - y[j + 1])) + 1;
  }
  // Coordinates are bounded by the loaders; this guards direct callers against absurd input.
  if (m > (int64_t(1) << 30))
    throw Error("polygon too large to rasterise (coordinates out of range)");
  std::vector<int> u(m), v(m);
  m = 0;
  for (std::size_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs);
    const int dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    // A repeated vertex (dx = dy = 0) gives s = 0/0 = NaN, as in COCO's code.
    const double s =
        dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    if (dx >= dy) {
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = c_int(ys + s * t + .5);
        ++m;
      }
    } else {
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = c_int(xs + s * t + .5);
        ++m;
      }
    }
  }

  // Points on the boundary where x changes, back in pixel units.
  std::vector<uint32_t> a;
  a.reserve(m + 1);
  for (int64_t j = 1; j < m; ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1);
    xd = (xd + .5) / scale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > w - 1) continue;
    double yd = static_cast<double>(v[j] < v[j - 1] ? v[j] : v[j - 1]);
    yd = (yd + .5) / scale - .5;
    if (yd < 0) {
      yd = 0;
    } else if (yd > h) {
      yd = h;
    }
    yd = std::ceil(yd);
    a.push_back(static_cast<uint32_t>(int64_t(xd) * h + int64_t(yd)));  // C wraps to uint here too
  }
  a.push_back(height * width);
  std::sort(a.begin(), a.end());
  uint32_t p = 0;
  for (auto& value : a) {
    const uint32_t t = value;
    value -= p;
    p = t;
  }
  std::vector<uint32_t> b;
  b.reserve(a.size());
  std::size_t j = 0;
  b.push_back(a[j++]);
  while (j < a.size()) {
    if (a[j] > 0) {
      b.push_back(a[j++]);
    } else {
      ++j;
      if (j < a.size()) b.back() += a[j++];
    }
  }
  return Rle{height, width, std::move(b)};
}

Rle rle_from_polygons(const std::vector<std::vector<double>>& polygons, uint32_t height,
                      uint32_t width) {
  if (polygons.empty()) return Rle{height, width, {height * width}};
  std::vector<Rle> parts;
  parts.reserve(polygons.size());
  for (const auto& polygon : polygons) parts.push_back(rle_from_polygon(polygon, height, width));
  return rle_merge(parts, false);
}

Rle rle_from_bbox(const std::array<double, 4>& box, uint32_t height, uint32_t width) {
  const double xs = box[0], ys = box[1], xe = box[0] + box[2], ye = box[1] + box[3];
  const double xy[8] = {xs, ys, xs, ye, xe, ye, xe, ys};
  return rle_from_polygon(xy, height, width);
}

void box_iou(std::span<const std::array<double, 4>> detections,
             std::span<const std::array<double, 4>> ground_truths,
             std::span<const uint8_t> is_crowd, double* out) {
  const std::size_t n = ground_truths.size();
  for (std::size_t g = 0; g < n; ++g) {
    const auto& G = ground_truths[g];
    const double ga = G[2] * G[3];
    const bool crowd = !is_crowd.empty() && is_crowd[g];
    for (std::size_t d = 0; d < detections.size(); ++d) {
      const auto& D = detections[d];
      const double da = D[2] * D[3];
      double& o = out[d * n + g];
      o = 0;
      const double iw = std::fmin(D[2] + D[0], G[2] + G[0]) - std::fmax(D[0], G[0]);
      if (iw <= 0) continue;
      const double ih = std::fmin(D[3] + D[1], G[3] + G[1]) - std::fmax(D[1], G[1]);
      if (ih <= 0) continue;
      const double i = iw * ih;
      const double u = crowd ? da : da + ga - i;
      o = i / u;
    }
  }
}

void rle_iou(std::span<const Rle> detections, std::span<const Rle> ground_truths,
             std::span<const uint8_t> is_crowd, double* out) {
  std::vector<const Rle*> dp, gp;
  std::vector<std::array<double, 4>> db, gb;
  for (const Rle& r : detections) {
    dp.push_back(&r);
    db.push_back(rle_to_bbox(r));
  }
  for (const Rle& r : ground_truths) {
    gp.push_back(&r);
    gb.push_back(rle_to_bbox(r));
  }
  rle_iou(dp, db, gp, gb, is_crowd, out);
}

void rle_iou(std::span<const Rle* const> detections,
             std::span<const std::array<double, 4>> detection_boxes,
             std::span<const Rle* const> ground_truths,
             std::span<const std::array<double, 4>> ground_truth_boxes,
             std::span<const uint8_t> is_crowd, double* out) {
  const std::size_t n = ground_truths.size();
  // Boxes first: masks whose boxes do not overlap cannot overlap.
  box_iou(detection_boxes, ground_truth_boxes, {}, out);
  for (std::size_t g = 0; g < n; ++g) {
    const Rle& gt = *ground_truths[g];
    const bool crowd = !is_crowd.empty() && is_crowd[g];
    for (std::size_t d = 0; d < detections.size(); ++d) {
      double& o = out[d * n + g];
      if (!(o > 0)) continue;
      const Rle& dt = *detections[d];
      if (dt.height != gt.height || dt.width != gt.width) {
        o = -1;
        continue;
      }
      uint32_t ca = dt.counts[0], cb = gt.counts[0], ct = 1, inter = 0, uni = 0;
      bool va = false, vb = false;
      std::size_t a = 1, b = 1;
      while (ct > 0) {
        const uint32_t c = std::min(ca, cb);
        if (va || vb) {
          uni += c;
          if (va && vb) inter += c;
        }
        ct = 0;
        ca -= c;
        if (!ca && a < dt.counts.size()) {
          ca = dt.counts[a++];
          va = !va;
        }
        ct += ca;
        cb -= c;
        if (!cb && b < gt.counts.size()) {
          cb = gt.counts[b++];
          vb = !vb;
        }
        ct += cb;
      }
      if (inter == 0) {
        uni = 1;
      } else if (crowd) {
        uni = static_cast<uint32_t>(rle_area(dt));
      }
      o = static_cast<double>(inter) / static_cast<double>(uni);
    }
  }
}

}  // namespace mrcnn::coco
