// `mrcnn make-shapes --out DIR [--train N] [--val M] [--seed S] [--size WxH] [--coco-layout]`
#include <iostream>
#include <memory>
#include <regex>

#include "commands.h"
#include "mrcnn/common/error.h"
#include "mrcnn/data/shapes.h"

namespace mrcnn::cli {

void add_make_shapes_command(CLI::App& app, int& exit_code) {
  auto* command =
      app.add_subcommand("make-shapes", "Generate the synthetic COCO-layout shapes set");
  auto options = std::make_shared<data::ShapesOptions>();
  auto size = std::make_shared<std::string>("320x320");
  command->add_option("--out", options->out_dir, "output folder")->required();
  command->add_option("--train", options->train_images, "training images")->default_val(200);
  command->add_option("--val", options->val_images, "validation images")->default_val(50);
  command->add_option("--seed", options->seed, "random seed")->default_val(0);
  command->add_option("--size", *size, "image size WxH")->default_val("320x320");
  auto coco_layout = std::make_shared<bool>(false);
  command->add_flag("--coco-layout", *coco_layout,
                    "name the splits as COCO 2017 does (train2017, instances_train2017.json, ...)");
  command->callback([&exit_code, options, size, coco_layout] {
    if (*coco_layout) options->split_suffix = "2017";
    std::smatch match;
    if (!std::regex_match(*size, match, std::regex(R"((\d+)x(\d+))"))) {
      throw Error("--size must look like 320x240 (width x height), got '" + *size + "'");
    }
    options->width = std::stoll(match[1]);
    options->height = std::stoll(match[2]);
    const data::ShapesSummary s = data::make_shapes(*options);
    std::cout << "wrote " << s.images << " images (" << s.empty_images << " without objects) and "
              << s.annotations << " annotations (" << s.occluded << " occluded, " << s.crowd_regions
              << " crowd regions) to " << options->out_dir << "\n";
    exit_code = 0;
  });
}

}  // namespace mrcnn::cli
