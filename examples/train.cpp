// An application training through the installed mrcnn package, without the command line:
// a config with the data and output folders set in code, then the library's train job.
//   mrcnn_train_example CONFIG DATASET_DIR OUTPUT_DIR STEPS
#include <mrcnn/build/train_job.h>
#include <mrcnn/config/loader.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " CONFIG DATASET_DIR OUTPUT_DIR STEPS\n";
    return 2;
  }
  try {
    const std::string data = argv[2];
    const mrcnn::config::Config config = mrcnn::config::load_config(
        argv[1], {"TrainDataset.dataset_dir=" + data, "EvalDataset.dataset_dir=" + data,
                  "save_dir=" + std::string(argv[3])});
    mrcnn::build::TrainJobOptions options;
    options.max_iterations = std::stoll(argv[4]);
    const mrcnn::engine::TrainSummary summary =
        mrcnn::build::run_train_job(config, options, {.out = &std::cout, .notes = &std::cerr});
    std::cout << summary.iterations << " iterations trained, final weights in "
              << mrcnn::build::output_dir(config) << "/model_final.safetensors\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
