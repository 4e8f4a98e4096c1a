// Test helper: the training losses of one forward pass of our Mask R-CNN with torchvision's
// settings, on the first image of a COCO dataset, through the training data path (decode,
// kept-ratio resize floored as torchvision does, no flip, boxes and masks scaled with it).
// Anchor and RoI sampling budgets are unlimited, so every labelled anchor and RoI is used and
// the losses do not depend on random draws.
//   losses_tool CHECKPOINT ANNOTATIONS.json IMAGE_DIR SHORT MAX OUT.safetensors
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <iostream>
#include <limits>
#include <string>

#include "mrcnn/coco/training_view.h"
#include "mrcnn/data/train_sample.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/modeling/weights.h"
#include "mrcnn/structures/label_map.h"

using namespace mrcnn;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: losses_tool CHECKPOINT ANNOTATIONS.json IMAGE_DIR SHORT MAX OUT\n";
    return 2;
  }
  try {
    constexpr int64_t kUnlimited = std::numeric_limits<int32_t>::max();
    modeling::MaskRCNNOptions options = modeling::torchvision_options(91);
    options.rpn_training.batch_size_per_image = kUnlimited;
    options.roi_heads.sampling.batch_size_per_image = kUnlimited;
    modeling::MaskRCNN model(options);
    modeling::load_weights(*model, io::load_weights_file(argv[1]), {}, argv[1]);
    model->train();

    const coco::Dataset dataset = coco::load_dataset(argv[2]);
    const auto records = coco::training_view(dataset, {}, nullptr);
    const structures::LabelMap labels(structures::LabelMap::Mode::kCategoryId, 90,
                                      dataset.categories, argv[2]);
    data::TransformOptions transform;
    transform.target_sizes = {{std::stoll(argv[4]), std::stoll(argv[5])}};
    transform.interp = data::Interpolation::kBilinear;
    transform.size_rounding = data::SizeRounding::kFloor;
    data::TrainSample sample =
        data::read_train_sample(dataset, records.at(0), {.dir = argv[3]}, labels, transform, 0);
    data::finish_train_sample(sample, transform);

    const structures::ImageList batch = structures::pad_images({sample.image}, 32);
    modeling::TrainingContext context;
    context.generators = {at::make_generator<at::CPUGeneratorImpl>(0)};
    io::NamedTensors out;
    for (auto& [name, loss] : model->losses(batch, {sample.targets}, context)) {
      out.emplace_back(name, loss.detach());
    }
    out.emplace_back("image_size", at::tensor(std::vector<int64_t>{sample.geometry.size[0],
                                                                   sample.geometry.size[1]}));
    io::save_safetensors(argv[6], out);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
