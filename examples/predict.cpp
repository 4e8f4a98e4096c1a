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
    const auto detections = predictor.predict_file(argv[3]);
    for (const auto& d : detections) {
      std::cout << d.category_name << " " << d.score << " [" << d.box[0] << ", " << d.box[1] << ", "
                << d.box[2] << ", " << d.box[3] << "] mask pixels " << d.mask.sum().item<int64_t>()
                << "\n";
    }
    std::cout << detections.size() << " detections\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
