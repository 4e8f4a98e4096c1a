// Where a process stands in a multi-process launch, read from the environment: torchrun's
// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (and TORCHELASTIC_*), or, for other
// launchers, OpenMPI's OMPI_COMM_WORLD_* or Slurm's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID
// with MASTER_ADDR and MASTER_PORT. Without any of them the process runs alone, a world of one.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <string>

namespace mrcnn::distributed {

struct LaunchEnvironment {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // torchrun's agent hosts the store
  int64_t restart_count = 0;
  std::string launcher = "none";  // torchrun | environment | openmpi | slurm | none
};

// Reads the variables above; throws mrcnn::Error naming a malformed one.
LaunchEnvironment read_launch_environment();

// The device a rank uses: with several ranks on a machine, a plain accelerator name ("cuda",
// "mlu") becomes <name>:<local rank>; a plain vendor device name does so in one process too.
c10::Device rank_device(const c10::Device& requested, const LaunchEnvironment& launch);

}  // namespace mrcnn::distributed
