#include "mrcnn/evaluation/dataset_eval.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstring>
#include <future>

#include "mrcnn/data/dataset_image.h"
#include "mrcnn/evaluation/results_writer.h"

namespace mrcnn::evaluation {
namespace {

// A shard's results as bytes: per image its index and result count, then per result its
// category, score, box, mask size and compressed counts.
class ShardWriter {
 public:
  void image(int64_t index, const std::vector<coco::Result>& results) {
    put(static_cast<uint64_t>(index));
    put(static_cast<uint64_t>(results.size()));
    for (const coco::Result& r : results) {
      put(r.image_id);
      put(r.category_id);
      put(r.score);
      for (double v : *r.bbox) put(v);
      put(r.segmentation.rle.height);
      put(r.segmentation.rle.width);
      put(static_cast<uint64_t>(r.segmentation.undecoded_counts.size()));
      bytes_ += r.segmentation.undecoded_counts;
    }
  }
  const std::string& bytes() const { return bytes_; }

 private:
  template <class T>
  void put(T value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  std::string bytes_;
};

class ShardReader {
 public:
  explicit ShardReader(const std::string& bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }
  std::pair<int64_t, std::vector<coco::Result>> image() {
    const auto index = static_cast<int64_t>(get<uint64_t>());
    std::vector<coco::Result> results(get<uint64_t>());
    for (coco::Result& r : results) {
      r.image_id = get<int64_t>();
      r.category_id = get<int64_t>();
      r.score = get<double>();
      std::array<double, 4> box{};
      for (double& v : box) v = get<double>();
      r.bbox = box;
      r.segmentation.kind = coco::Segmentation::Kind::kRle;
      r.segmentation.rle.height = get<uint32_t>();
      r.segmentation.rle.width = get<uint32_t>();
      const auto size = get<uint64_t>();
      TORCH_CHECK(at_ + size <= bytes_.size(), "truncated evaluation shard");
      r.segmentation.undecoded_counts = bytes_.substr(at_, size);
      at_ += size;
    }
    return {index, std::move(results)};
  }

 private:
  template <class T>
  T get() {
    TORCH_CHECK(at_ + sizeof(T) <= bytes_.size(), "truncated evaluation shard");
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace

DatasetEvaluation evaluate_model(modeling::MaskRCNN& model, const coco::Dataset& dataset,
                                 const structures::LabelMap& labels,
                                 const DatasetEvalOptions& options, const EvalProgress& progress,
                                 const EvalSharding& sharding) {
  DatasetEvaluation out;
  const bool sharded = sharding.world_size > 1;
  const bool root = sharding.rank == 0;
  ResultsWriter writer(root ? options.output_dir : std::string());
  out.bbox_json_path = writer.bbox_path();
  out.mask_json_path = writer.mask_path();
  ShardWriter shard;

  // This rank's images, in batches.
  const int64_t total = static_cast<int64_t>(dataset.images.size());
  const int64_t step = std::max<int64_t>(sharding.world_size, 1);
  std::vector<std::vector<int64_t>> batches;
  for (int64_t i = sharding.rank; i < total; i += step) {
    if (batches.empty() || static_cast<int64_t>(batches.back().size()) >= options.batch_size)
      batches.emplace_back();
    batches.back().push_back(i);
  }
  // The next batch is decoded on another thread while the model runs on this one.
  auto read = [&](std::size_t b) {
    return std::async(std::launch::async, [&dataset, &options, &batches, b] {
      std::vector<at::Tensor> images;
      for (int64_t i : batches[b])
        images.push_back(data::read_dataset_image(options.images, dataset.images[i]));
      return images;
    });
  };
  const auto start = std::chrono::steady_clock::now();
  if (progress) progress(0, total, 0.0);
  std::future<std::vector<at::Tensor>> next;
  if (!batches.empty()) next = read(0);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::vector<at::Tensor> images =
        next.get();  // rethrows a decoding error (names the file)
    if (b + 1 < batches.size()) next = read(b + 1);
    const std::vector<structures::Instances> detections =
        model->detect(data::preprocess_images(images, options.transform, options.device));
    for (std::size_t k = 0; k < detections.size(); ++k) {
      const int64_t index = batches[b][k];
      const auto results = coco_results(detections[k], dataset.images[index].id, labels);
      if (sharded) {
        shard.image(index, results);
      } else {
        writer.add(results);
      }
    }
    if (progress) {
      // Sharded: this rank's share, scaled to the whole set.
      progress(std::min(total, batches[b].back() + step), total,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  if (sharded) {
    const std::vector<std::string> shards = sharding.gather_to_root(shard.bytes());
    if (!root) {
      out.scored = false;
      return out;
    }
    std::vector<std::pair<int64_t, std::vector<coco::Result>>> all;
    for (const std::string& bytes : shards) {
      ShardReader reader(bytes);
      while (!reader.done()) all.push_back(reader.image());
    }
    std::sort(all.begin(), all.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [index, results] : all) writer.add(results);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  writer.finish();
  out.images_per_second = double(total) / std::max(seconds, 1e-9);
  // What pycocotools' loadRes would make of the two files, without reading them back.
  const std::string name = options.output_dir.empty() ? "(results in memory)" : options.output_dir;
  out.bbox = coco::evaluate(
      dataset, coco::make_detections(writer.box_results(), name, dataset, coco::IouType::kBbox),
      coco::IouType::kBbox);
  out.segm = coco::evaluate(
      dataset, coco::make_detections(writer.mask_results(), name, dataset, coco::IouType::kSegm),
      coco::IouType::kSegm);
  return out;
}

}  // namespace mrcnn::evaluation
