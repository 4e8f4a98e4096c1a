// COCOeval, step for step: evaluate (per image and category: IoUs, greedy matching per IoU
// threshold and area range), accumulate (precision/recall over score-sorted detections), and
// summarize. Comments name the pycocotools step each part mirrors.
#include "mrcnn/coco/eval.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <unordered_map>

#include "mrcnn/common/error.h"
#include "mrcnn/common/parallel.h"

namespace mrcnn::coco {
namespace {

// numpy.linspace(start, stop, num): arange * step + start, last element exactly stop.
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> out(num);
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) out[i] = double(i) * step + start;
  out[num - 1] = stop;
  return out;
}

// A ground-truth annotation as COCOeval uses it.
struct GroundTruth {
  int64_t id;
  double area;
  bool crowd;  // also COCOeval's "ignore"
  const std::array<double, 4>* bbox;
  Rle rle;                           // segm only
  std::array<double, 4> mask_box{};  // segm only: rle_to_bbox(rle)
};

// The result of evaluateImg for one image, category and area range (maxDet = maxDets[-1]).
struct ImageEval {
  std::vector<double> scores;    // D, sorted by score
  std::vector<uint8_t> matched;  // T x D: matched to a ground truth with non-zero id
  std::vector<uint8_t> ignored;  // T x D
  int64_t ground_truth_not_ignored = 0;
};

// All detections and ground truths of one category, grouped by image (in image-id order).
struct CategoryWork {
  struct Image {
    std::vector<int64_t> gts;  // indices into the gt vector, file order
    std::vector<int64_t> dts;  // indices into detections, file order
  };
  std::vector<Image> images;
};

class Evaluator {
 public:
  Evaluator(const Dataset& gt, const std::vector<Detection>& dts, IouType type, int threads)
      : gt_(gt), dts_(dts), type_(type), threads_(threads) {}

  EvalResult run();

 private:
  void prepare();
  void evaluate_category(std::size_t k, EvalResult& result) const;
  void evaluate_image(const CategoryWork::Image& image, std::vector<ImageEval>& per_area) const;
  void accumulate(std::size_t k, const std::vector<std::vector<ImageEval>>& evals,
                  EvalResult& result) const;

  const Dataset& gt_;
  const std::vector<Detection>& dts_;
  IouType type_;
  int threads_;
  EvalParams p_;
  std::vector<GroundTruth> gts_;
  std::vector<int64_t> category_ids_;
  std::vector<CategoryWork> work_;
};

// _prepare: ground truths (with masks for segm) and detections, grouped by category and image.
void Evaluator::prepare() {
  category_ids_ = gt_.sorted_category_ids();
  std::vector<int64_t> image_ids;
  for (const auto& image : gt_.images) image_ids.push_back(image.id);
  std::sort(image_ids.begin(), image_ids.end());
  std::unordered_map<int64_t, int64_t> image_rank;
  for (std::size_t i = 0; i < image_ids.size(); ++i)
    image_rank[image_ids[i]] = static_cast<int64_t>(i);
  std::unordered_map<int64_t, int64_t> category_rank;
  for (std::size_t k = 0; k < category_ids_.size(); ++k)
    category_rank[category_ids_[k]] = static_cast<int64_t>(k);

  gts_.resize(gt_.annotations.size());
  parallel_for(gts_.size(), threads_, 256, [&](std::size_t i) {
    const auto& ann = gt_.annotations[i];
    GroundTruth& g = gts_[i];
    g = GroundTruth{ann.id, ann.area, ann.iscrowd, &ann.bbox, {}, {}};
    if (type_ == IouType::kSegm) {
      if (ann.segmentation.kind == Segmentation::Kind::kNone) {
        throw Error(
            ErrorLocation{.file = gt_.path, .record = "annotation id " + std::to_string(ann.id)},
            "segm evaluation needs a 'segmentation' for every annotation");
      }
      g.rle = gt_.annotation_rle(ann);
      g.mask_box = rle_to_bbox(g.rle);
    }
  });

  // Bucket (category, image) -> lists, keeping file order inside each bucket.
  work_.assign(category_ids_.size(), {});
  std::vector<std::unordered_map<int64_t, std::size_t>> slot(category_ids_.size());
  auto bucket = [&](int64_t category_id, int64_t image_id) -> CategoryWork::Image& {
    const int64_t k = category_rank.at(category_id);
    const int64_t rank = image_rank.at(image_id);
    auto [it, inserted] = slot[k].emplace(rank, work_[k].images.size());
    if (inserted) work_[k].images.emplace_back();
    return work_[k].images[it->second];
  };
  for (std::size_t i = 0; i < gt_.annotations.size(); ++i) {
    const auto& ann = gt_.annotations[i];
    bucket(ann.category_id, ann.image_id).gts.push_back(static_cast<int64_t>(i));
  }
  for (std::size_t i = 0; i < dts_.size(); ++i) {
    const auto& d = dts_[i];
    if (!category_rank.count(d.category_id))
      continue;  // COCOeval only looks at the GT's categories
    bucket(d.category_id, d.image_id).dts.push_back(static_cast<int64_t>(i));
  }
  // Images in ascending id order, as accumulate concatenates them.
  for (std::size_t k = 0; k < work_.size(); ++k) {
    std::vector<std::pair<int64_t, std::size_t>> ranked(slot[k].begin(), slot[k].end());
    std::sort(ranked.begin(), ranked.end());
    std::vector<CategoryWork::Image> sorted;
    sorted.reserve(ranked.size());
    for (const auto& [rank, index] : ranked) sorted.push_back(std::move(work_[k].images[index]));
    work_[k].images = std::move(sorted);
  }
}

// computeIoU + evaluateImg for every area range.
void Evaluator::evaluate_image(const CategoryWork::Image& image,
                               std::vector<ImageEval>& per_area) const {
  const std::size_t T = p_.iou_thresholds.size();
  const std::size_t max_det = static_cast<std::size_t>(p_.max_detections.back());

  std::vector<int64_t> dt = image.dts;
  std::stable_sort(dt.begin(), dt.end(),
                   [&](int64_t a, int64_t b) { return -dts_[a].score < -dts_[b].score; });
  if (dt.size() > max_det) dt.resize(max_det);
  const std::size_t D = dt.size();
  const std::size_t G = image.gts.size();

  std::vector<double> ious(D * G);
  if (D > 0 && G > 0) {
    std::vector<uint8_t> crowd(G);
    for (std::size_t g = 0; g < G; ++g) crowd[g] = gts_[image.gts[g]].crowd;
    if (type_ == IouType::kBbox) {
      std::vector<std::array<double, 4>> db(D), gb(G);
      for (std::size_t d = 0; d < D; ++d) db[d] = dts_[dt[d]].bbox;
      for (std::size_t g = 0; g < G; ++g) gb[g] = *gts_[image.gts[g]].bbox;
      box_iou(db, gb, crowd, ious.data());
    } else {
      std::vector<const Rle*> dr(D), gr(G);
      std::vector<std::array<double, 4>> db(D), gb(G);
      for (std::size_t d = 0; d < D; ++d) {
        dr[d] = &dts_[dt[d]].rle;
        db[d] = dts_[dt[d]].mask_box;
      }
      for (std::size_t g = 0; g < G; ++g) {
        gr[g] = &gts_[image.gts[g]].rle;
        gb[g] = gts_[image.gts[g]].mask_box;
      }
      rle_iou(dr, db, gr, gb, crowd, ious.data());
    }
  }

  per_area.resize(p_.area_ranges.size());
  for (std::size_t a = 0; a < p_.area_ranges.size(); ++a) {
    const auto [lo, hi] = p_.area_ranges[a];
    // Ground truths: ignored ones (crowd or outside the area range) go last, order kept.
    std::vector<std::size_t> gtind(G);
    std::vector<uint8_t> gt_ignore_orig(G);
    for (std::size_t g = 0; g < G; ++g) {
      const auto& gt = gts_[image.gts[g]];
      gt_ignore_orig[g] = gt.crowd || gt.area < lo || gt.area > hi;
    }
    std::iota(gtind.begin(), gtind.end(), 0);
    std::stable_sort(gtind.begin(), gtind.end(), [&](std::size_t x, std::size_t y) {
      return gt_ignore_orig[x] < gt_ignore_orig[y];
    });

    ImageEval& out = per_area[a];
    out.scores.resize(D);
    for (std::size_t d = 0; d < D; ++d) out.scores[d] = dts_[dt[d]].score;
    out.matched.assign(T * D, 0);
    out.ignored.assign(T * D, 0);
    out.ground_truth_not_ignored = std::count(gt_ignore_orig.begin(), gt_ignore_orig.end(), 0);

    std::vector<int64_t> gt_match(T * G, 0);  // detection id per (t, g), 0 = none
    std::vector<int64_t> dt_match(T * D, 0);  // ground-truth id per (t, d), 0 = none
    if (D > 0 && G > 0) {
      for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t d = 0; d < D; ++d) {
          double iou = std::min(p_.iou_thresholds[t], 1 - 1e-10);
          std::ptrdiff_t m = -1;
          for (std::size_t gi = 0; gi < G; ++gi) {
            const std::size_t g = gtind[gi];
            const bool crowd = gts_[image.gts[g]].crowd;
            // Already matched, and not a crowd region (those absorb any number of detections).
            if (gt_match[t * G + gi] > 0 && !crowd) continue;
            // Once matched to a real ground truth, stop before the ignored ones.
            if (m > -1 && !gt_ignore_orig[gtind[m]] && gt_ignore_orig[g]) break;
            const double v = ious[d * G + g];
            if (v < iou) continue;
            iou = v;
            m = static_cast<std::ptrdiff_t>(gi);
          }
          if (m == -1) continue;
          const auto& matched_gt = gts_[image.gts[gtind[m]]];
          out.ignored[t * D + d] = gt_ignore_orig[gtind[m]];
          dt_match[t * D + d] = matched_gt.id;
          gt_match[t * G + m] = dts_[dt[d]].id;
        }
      }
    }
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t d = 0; d < D; ++d) {
        const double area = dts_[dt[d]].area;
        const bool outside = area < lo || area > hi;
        out.matched[t * D + d] = dt_match[t * D + d] != 0;
        // Unmatched detections outside the area range are ignored.
        if (dt_match[t * D + d] == 0 && outside) out.ignored[t * D + d] = 1;
      }
    }
  }
}

// accumulate, for one category.
void Evaluator::accumulate(std::size_t k, const std::vector<std::vector<ImageEval>>& evals,
                           EvalResult& result) const {
  const std::size_t T = p_.iou_thresholds.size(), R = p_.recall_thresholds.size(),
                    K = category_ids_.size(), A = p_.area_ranges.size(),
                    M = p_.max_detections.size();
  constexpr double kEps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  std::vector<double> scores;
  std::vector<uint8_t> matched, ignored;
  std::vector<std::size_t> order;
  std::vector<double> tp, fp, rc, pr;
  for (std::size_t a = 0; a < A; ++a) {
    for (std::size_t m = 0; m < M; ++m) {
      const std::size_t max_det = static_cast<std::size_t>(p_.max_detections[m]);
      int64_t npig = 0;
      std::size_t total = 0;
      for (const auto& per_area : evals) {
        total += std::min(per_area[a].scores.size(), max_det);
        npig += per_area[a].ground_truth_not_ignored;
      }
      if (evals.empty() || npig == 0) continue;
      // Concatenate detections of all images (image-id order), then stable sort by score.
      scores.clear();
      matched.assign(T * total, 0);
      ignored.assign(T * total, 0);
      std::size_t offset = 0;
      for (const auto& per_area : evals) {
        const ImageEval& e = per_area[a];
        const std::size_t D = e.scores.size();
        const std::size_t n = std::min(D, max_det);
        scores.insert(scores.end(), e.scores.begin(), e.scores.begin() + n);
        for (std::size_t t = 0; t < T; ++t) {
          std::copy_n(e.matched.begin() + t * D, n, matched.begin() + t * total + offset);
          std::copy_n(e.ignored.begin() + t * D, n, ignored.begin() + t * total + offset);
        }
        offset += n;
      }
      order.resize(total);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t x, std::size_t y) { return -scores[x] < -scores[y]; });

      const std::size_t nd = total;
      for (std::size_t t = 0; t < T; ++t) {
        tp.resize(nd);
        fp.resize(nd);
        double tp_sum = 0, fp_sum = 0;
        for (std::size_t i = 0; i < nd; ++i) {
          const std::size_t j = order[i];
          const bool is_matched = matched[t * total + j];
          const bool is_ignored = ignored[t * total + j];
          tp_sum += (is_matched && !is_ignored) ? 1 : 0;
          fp_sum += (!is_matched && !is_ignored) ? 1 : 0;
          tp[i] = tp_sum;
          fp[i] = fp_sum;
        }
        rc.resize(nd);
        pr.resize(nd);
        for (std::size_t i = 0; i < nd; ++i) {
          rc[i] = tp[i] / double(npig);
          pr[i] = tp[i] / (fp[i] + tp[i] + kEps);
        }
        result.recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1] : 0;
        // Precision envelope: make it non-increasing from the right.
        for (std::size_t i = nd; i-- > 1;) {
          if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
        }
        for (std::size_t r = 0; r < R; ++r) {
          const std::size_t pi = std::lower_bound(rc.begin(), rc.end(), p_.recall_thresholds[r]) -
                                 rc.begin();  // side='left'
          result.precision[(((t * R + r) * K + k) * A + a) * M + m] = pi < nd ? pr[pi] : 0;
        }
      }
    }
  }
}

void Evaluator::evaluate_category(std::size_t k, EvalResult& result) const {
  std::vector<std::vector<ImageEval>> evals(work_[k].images.size());
  for (std::size_t i = 0; i < evals.size(); ++i) evaluate_image(work_[k].images[i], evals[i]);
  accumulate(k, evals, result);
}

// _summarize: mean of the entries > -1 of one slice, or -1.
double summarize(const EvalResult& r, bool ap, std::optional<double> iou, const std::string& area,
                 int64_t max_det) {
  const auto& p = r.params;
  const std::size_t T = p.iou_thresholds.size(), R = p.recall_thresholds.size(),
                    K = r.category_ids.size(), A = p.area_ranges.size(),
                    M = p.max_detections.size();
  std::vector<std::size_t> ts;
  for (std::size_t t = 0; t < T; ++t) {
    if (!iou || p.iou_thresholds[t] == *iou) ts.push_back(t);
  }
  const std::size_t a =
      std::find(p.area_labels.begin(), p.area_labels.end(), area) - p.area_labels.begin();
  const std::size_t m = std::find(p.max_detections.begin(), p.max_detections.end(), max_det) -
                        p.max_detections.begin();
  std::vector<double> values;
  for (std::size_t t : ts) {
    if (ap) {
      for (std::size_t rr = 0; rr < R; ++rr)
        for (std::size_t k = 0; k < K; ++k)
          values.push_back(r.precision[(((t * R + rr) * K + k) * A + a) * M + m]);
    } else {
      for (std::size_t k = 0; k < K; ++k) values.push_back(r.recall[((t * K + k) * A + a) * M + m]);
    }
  }
  std::erase_if(values, [](double v) { return !(v > -1); });
  if (values.empty()) return -1;
  return numpy_pairwise_sum(values.data(), values.size()) / double(values.size());
}

EvalResult Evaluator::run() {
  prepare();
  EvalResult result;
  result.type = type_;
  result.params = p_;
  result.category_ids = category_ids_;
  const std::size_t T = p_.iou_thresholds.size(), R = p_.recall_thresholds.size(),
                    K = category_ids_.size(), A = p_.area_ranges.size(),
                    M = p_.max_detections.size();
  result.precision.assign(T * R * K * A * M, -1);
  result.recall.assign(T * K * A * M, -1);

  // Categories are independent: each writes only its own precision/recall slots.
  parallel_for(K, threads_, 1, [&](std::size_t k) { evaluate_category(k, result); });

  const auto& md = p_.max_detections;
  result.stats = {summarize(result, true, std::nullopt, "all", md[2]),
                  summarize(result, true, 0.5, "all", md[2]),
                  summarize(result, true, 0.75, "all", md[2]),
                  summarize(result, true, std::nullopt, "small", md[2]),
                  summarize(result, true, std::nullopt, "medium", md[2]),
                  summarize(result, true, std::nullopt, "large", md[2]),
                  summarize(result, false, std::nullopt, "all", md[0]),
                  summarize(result, false, std::nullopt, "all", md[1]),
                  summarize(result, false, std::nullopt, "all", md[2]),
                  summarize(result, false, std::nullopt, "small", md[2]),
                  summarize(result, false, std::nullopt, "medium", md[2]),
                  summarize(result, false, std::nullopt, "large", md[2])};

  // Per category (detectron2 / PaddleDetection --classwise): precision[:, :, k, all, last].
  result.per_category_ap.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    std::vector<double> values;
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t r = 0; r < R; ++r) {
        const double v = result.precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)];
        if (v > -1) values.push_back(v);
      }
    result.per_category_ap[k] =
        values.empty() ? std::numeric_limits<double>::quiet_NaN()
                       : numpy_pairwise_sum(values.data(), values.size()) / double(values.size());
  }
  return result;
}

}  // namespace

EvalParams::EvalParams()
    : iou_thresholds(linspace(.5, 0.95, static_cast<int>(std::round((0.95 - .5) / .05)) + 1)),
      recall_thresholds(linspace(.0, 1.00, static_cast<int>(std::round((1.00 - .0) / .01)) + 1)) {
  // pycocotools writes these as 0 ** 2, 1e5 ** 2, 32 ** 2, 96 ** 2.
  area_ranges = {{0, 1e10}, {0, 32.0 * 32}, {32.0 * 32, 96.0 * 96}, {96.0 * 96, 1e10}};
}

double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

EvalResult evaluate(const Dataset& ground_truth, const std::vector<Detection>& detections,
                    IouType type, int threads) {
  return Evaluator(ground_truth, detections, type, threads).run();
}

}  // namespace mrcnn::coco
