// The process group a command runs in: from the launcher's environment, or a world of one.
#pragma once

#include <c10/core/Device.h>

#include <memory>

#include "mrcnn/config/config.h"
#include "mrcnn/engine/distributed.h"
#include "mrcnn/evaluation/evaluator.h"

namespace mrcnn::cli {

struct DistributedRun {
  engine::LaunchEnvironment launch;
  c10::Device device{c10::kCPU};  // this rank's device
  std::unique_ptr<engine::ProcessGroup> group;

  bool is_root() const { return launch.rank == 0; }
  // Evaluation split over the ranks, gathered on rank 0.
  evaluation::EvalSharding sharding(const std::string& key) const;
};

DistributedRun setup_distributed(const config::Config& config, const c10::Device& requested);

}  // namespace mrcnn::cli
