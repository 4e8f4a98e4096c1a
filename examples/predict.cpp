// An application using the installed mrcnn package: detect objects in one image.
//   mrcnn_predict_example CONFIG WEIGHTS IMAGE
#include <mrcnn/api/predictor.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " CONFIG WEIGHTS IMAGE\n";
    return 2;
  }
  try {
    const auto predictor = mrcnn::api::Predictor::load(argv[1], argv[2], "cpu");
    const mrcnn::structures::Instances found = predictor.predict_file(argv[3]);
    for (int64_t i = 0; i < found.size(); ++i) {
      const int64_t category = predictor.labels().category_of(found.labels[i].item<int64_t>());
      const auto box = found.boxes[i];
      std::cout << predictor.labels().category_name(category) << " "
                << found.scores[i].item<float>() << " [" << box[0].item<float>() << ", "
                << box[1].item<float>() << ", " << box[2].item<float>() << ", "
                << box[3].item<float>() << "] mask pixels "
                << mrcnn::coco::rle_area(found.mask_rles[i]) << "\n";
    }
    std::cout << found.size() << " detections\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
