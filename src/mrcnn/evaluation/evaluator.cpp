#include "mrcnn/evaluation/evaluator.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>

#include "mrcnn/common/error.h"
#include "mrcnn/data/dataset_image.h"
#include "mrcnn/evaluation/coco_eval_report.h"
#include "mrcnn/io/image.h"
#include "mrcnn/ops/paste_masks.h"

namespace mrcnn::evaluation {

int64_t LabelMapping::category_of(int64_t label) const {
  if (label_is_category_id) return label;
  if (label < 1 || label > static_cast<int64_t>(category_ids.size())) return -1;
  return category_ids[label - 1];
}

LabelMapping label_mapping(const config::Config& config, const data::CocoDataset& dataset) {
  LabelMapping mapping;
  mapping.category_ids = dataset.sorted_category_ids();
  if (config.label_map == "category_id") {
    mapping.label_is_category_id = true;
    for (int64_t id : mapping.category_ids) {
      if (id < 1 || id > config.num_classes) {
        throw Error(ErrorLocation{.file = dataset.path},
                    "category id " + std::to_string(id) +
                        " does not fit label_map: category_id with num_classes " +
                        std::to_string(config.num_classes));
      }
    }
  } else if (static_cast<int64_t>(mapping.category_ids.size()) != config.num_classes) {
    throw Error(ErrorLocation{.file = dataset.path},
                "the dataset has " + std::to_string(mapping.category_ids.size()) +
                    " categories but num_classes is " + std::to_string(config.num_classes));
  }
  return mapping;
}

data::CocoDataset inference_categories(const config::Config& config) {
  const std::filesystem::path path =
      std::filesystem::path(config.test_dataset.dataset_dir) / config.test_dataset.anno_path;
  if (!config.test_dataset.anno_path.empty() && std::filesystem::exists(path))
    return data::load_coco(path.string());
  data::CocoDataset names;
  names.path = "(no TestDataset.anno_path)";
  for (int64_t id = 1; id <= config.num_classes; ++id)
    names.categories.push_back({id, "class " + std::to_string(id), ""});
  names.build_index();
  return names;
}

ImageDetections detect(modeling::MaskRCNN& model, const at::Tensor& image_rgb,
                       const c10::Device& device, const LabelMapping& labels, double mask_threshold,
                       int64_t image_id) {
  const int64_t height = image_rgb.size(0), width = image_rgb.size(1);
  const at::Tensor input = image_rgb.to(device).permute({2, 0, 1}).to(at::kFloat).div(255);
  const modeling::ImageResult result = model->predict({input})[0];
  const at::Tensor boxes = result.boxes.cpu().to(at::kDouble).contiguous();
  const at::Tensor scores = result.scores.cpu().to(at::kDouble).contiguous();
  const at::Tensor label_ids = result.labels.cpu().contiguous();
  // Only the box region of each mask is computed and encoded; no full-size planes.
  const ops::BinaryMasks pasted =
      ops::paste_binary_masks(result.masks, result.boxes, height, width, mask_threshold);
  ImageDetections out;
  out.image_id = image_id;
  const int64_t n = boxes.size(0);
  const double* b = boxes.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t category = labels.category_of(label_ids.data_ptr<int64_t>()[i]);
    if (category < 0) continue;
    out.boxes_xywh.push_back(
        {b[4 * i], b[4 * i + 1], b[4 * i + 2] - b[4 * i], b[4 * i + 3] - b[4 * i + 1]});
    out.scores.push_back(scores.data_ptr<double>()[i]);
    out.category_ids.push_back(category);
    const ops::MaskRegion& region = pasted.regions[i];
    out.masks.push_back(structures::rle_encode_region(
        pasted.region_bits(i), static_cast<uint32_t>(region.h), static_cast<uint32_t>(region.w),
        static_cast<uint32_t>(region.x0), static_cast<uint32_t>(region.y0),
        static_cast<uint32_t>(height), static_cast<uint32_t>(width)));
  }
  return out;
}

ResultsFile::ResultsFile(std::string path) : path_(std::move(path)) {
  file_ = std::fopen((path_ + ".tmp").c_str(), "wb");
  if (file_ == nullptr) throw Error(ErrorLocation{.file = path_ + ".tmp"}, "cannot create file");
}

ResultsFile::~ResultsFile() {
  if (file_ != nullptr) std::fclose(file_);  // unfinished: the temporary file is left, never `path`
}

void ResultsFile::add(const std::string& entry) {
  const std::string text = (empty_ ? "[\n" : ",\n") + entry;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    throw Error(ErrorLocation{.file = path_ + ".tmp"}, "cannot write (disk full?)");
  }
  empty_ = false;
}

void ResultsFile::finish() {
  const char* end = empty_ ? "[]\n" : "\n]\n";
  const bool ok = std::fputs(end, file_) >= 0 && std::fflush(file_) == 0;
  std::fclose(file_);
  file_ = nullptr;
  if (!ok || std::rename((path_ + ".tmp").c_str(), path_.c_str()) != 0) {
    throw Error(ErrorLocation{.file = path_}, "cannot finish writing results");
  }
}

ResultEntries result_entries(const ImageDetections& d) {
  ResultEntries entries;
  for (std::size_t i = 0; i < d.scores.size(); ++i) {
    const auto& box = d.boxes_xywh[i];
    const std::string head = fmt::format(R"({{"image_id": {}, "category_id": {}, "score": {}, )",
                                         d.image_id, d.category_ids[i], json_number(d.scores[i]));
    entries.boxes.push_back(head + fmt::format(R"("bbox": [{}, {}, {}, {}]}})", json_number(box[0]),
                                               json_number(box[1]), json_number(box[2]),
                                               json_number(box[3])));
    entries.masks.push_back(head +
                            fmt::format(R"("segmentation": {{"size": [{}, {}], "counts": "{}"}}}})",
                                        d.masks[i].height, d.masks[i].width,
                                        json_escape(structures::rle_to_string(d.masks[i]))));
  }
  return entries;
}

void write_results(const ImageDetections& d, ResultsFile& boxes, ResultsFile& masks) {
  const ResultEntries entries = result_entries(d);
  for (const auto& e : entries.boxes) boxes.add(e);
  for (const auto& e : entries.masks) masks.add(e);
}

namespace {

// A shard's results as bytes: per image its index, then its entries, length-prefixed.
void append_u64(std::string& out, uint64_t value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

uint64_t read_u64(const std::string& in, std::size_t& at) {
  TORCH_CHECK(at + sizeof(uint64_t) <= in.size(), "truncated evaluation shard");
  uint64_t value = 0;
  std::memcpy(&value, in.data() + at, sizeof(value));
  at += sizeof(value);
  return value;
}

void append_entries(std::string& out, int64_t index, const ResultEntries& entries) {
  append_u64(out, static_cast<uint64_t>(index));
  append_u64(out, entries.boxes.size());
  for (const auto* list : {&entries.boxes, &entries.masks}) {
    for (const auto& e : *list) {
      append_u64(out, e.size());
      out += e;
    }
  }
}

std::vector<std::pair<int64_t, ResultEntries>> read_entries(
    const std::vector<std::string>& shards) {
  std::vector<std::pair<int64_t, ResultEntries>> all;
  for (const auto& shard : shards) {
    std::size_t at = 0;
    while (at < shard.size()) {
      const auto index = static_cast<int64_t>(read_u64(shard, at));
      const uint64_t count = read_u64(shard, at);
      ResultEntries entries;
      for (auto* list : {&entries.boxes, &entries.masks}) {
        for (uint64_t k = 0; k < count; ++k) {
          const uint64_t size = read_u64(shard, at);
          TORCH_CHECK(at + size <= shard.size(), "truncated evaluation shard");
          list->push_back(shard.substr(at, size));
          at += size;
        }
      }
      all.emplace_back(index, std::move(entries));
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return all;
}

}  // namespace

DatasetEvaluation evaluate_model(modeling::MaskRCNN& model, const data::CocoDataset& dataset,
                                 const std::string& image_dir, const c10::Device& device,
                                 const LabelMapping& labels, double mask_threshold,
                                 const std::string& output_dir,
                                 const std::function<void(int64_t, int64_t, double)>& progress,
                                 const EvalSharding& sharding) {
  namespace fs = std::filesystem;
  fs::create_directories(output_dir);
  DatasetEvaluation out;
  out.bbox_json_path = (fs::path(output_dir) / "bbox.json").string();
  out.mask_json_path = (fs::path(output_dir) / "mask.json").string();
  const bool sharded = sharding.world_size > 1;
  const bool root = sharding.rank == 0;
  std::optional<ResultsFile> boxes, masks;
  if (root) {
    boxes.emplace(out.bbox_json_path);
    masks.emplace(out.mask_json_path);
  }
  std::string shard;
  const auto start = std::chrono::steady_clock::now();
  const int64_t total = static_cast<int64_t>(dataset.images.size());
  const int64_t step = std::max<int64_t>(sharding.world_size, 1);
  // The next image is decoded on another thread while the model runs on this one.
  auto read = [&](int64_t i) {
    return std::async(std::launch::async, [&dataset, &image_dir, i] {
      return data::read_dataset_image(image_dir, dataset.images[i]);
    });
  };
  std::future<at::Tensor> next;
  if (sharding.rank < total) next = read(sharding.rank);
  for (int64_t i = sharding.rank; i < total; i += step) {
    const data::CocoImage& image = dataset.images[i];
    const at::Tensor rgb = next.get();  // rethrows a decoding error, which names the file
    if (i + step < total) next = read(i + step);
    const ImageDetections detections = detect(model, rgb, device, labels, mask_threshold, image.id);
    if (sharded) {
      append_entries(shard, i, result_entries(detections));
    } else {
      write_results(detections, *boxes, *masks);
    }
    if (progress) {
      // Sharded: this rank's share, scaled to the whole set.
      progress(std::min(total, i + step), total,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  if (sharded) {
    const std::vector<std::string> shards = sharding.gather_to_root(shard);
    if (!root) {
      out.scored = false;
      return out;
    }
    for (const auto& [index, entries] : read_entries(shards)) {
      for (const auto& e : entries.boxes) boxes->add(e);
      for (const auto& e : entries.masks) masks->add(e);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  boxes->finish();
  masks->finish();
  out.images_per_second = total / std::max(seconds, 1e-9);
  out.bbox =
      evaluate(dataset, load_results(out.bbox_json_path, dataset, IouType::kBbox), IouType::kBbox);
  out.segm =
      evaluate(dataset, load_results(out.mask_json_path, dataset, IouType::kSegm), IouType::kSegm);
  return out;
}

}  // namespace mrcnn::evaluation
