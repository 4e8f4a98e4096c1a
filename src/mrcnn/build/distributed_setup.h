// The process group a job runs in: from the launcher's environment, or a world of one; with
// the device of this rank.
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <ostream>
#include <string>

#include "mrcnn/config/config.h"
#include "mrcnn/distributed/process_group.h"
#include "mrcnn/evaluation/dataset_eval.h"

namespace mrcnn::build {

struct DistributedRun {
  distributed::LaunchEnvironment launch;
  c10::Device device{c10::kCPU};  // this rank's device
  std::unique_ptr<distributed::ProcessGroup> group;

  bool is_root() const { return launch.rank == 0; }
  // Evaluation split over the ranks, gathered on rank 0; `key` names its store entries.
  evaluation::EvalSharding sharding(const std::string& key) const;
};

// notes: where rank 0 says how the run is spread (nullptr: nowhere).
DistributedRun setup_distributed(const config::Config& config, const c10::Device& requested,
                                 std::ostream* notes);

}  // namespace mrcnn::build
