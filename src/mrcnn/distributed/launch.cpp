#include "mrcnn/distributed/launch.h"

#include <fmt/format.h>

#include <cstdlib>

#include "mrcnn/common/error.h"

namespace mrcnn::distributed {
namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

int64_t env_int(const char* name, int64_t fallback) {
  const char* value = env(name);
  if (value == nullptr) return fallback;
  char* end = nullptr;
  const long long parsed = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0') {
    throw Error(ErrorLocation{.file = std::string("environment variable ") + name},
                std::string("expected an integer, got '") + value + "'");
  }
  return parsed;
}

}  // namespace

LaunchEnvironment read_launch_environment() {
  LaunchEnvironment launch;
  if (env("RANK") != nullptr && env("WORLD_SIZE") != nullptr) {
    launch.rank = env_int("RANK", 0);
    launch.world_size = env_int("WORLD_SIZE", 1);
    launch.local_rank = env_int("LOCAL_RANK", launch.rank);
    launch.launcher = env("TORCHELASTIC_RUN_ID") != nullptr ? "torchrun" : "environment";
  } else if (env("OMPI_COMM_WORLD_RANK") != nullptr) {
    launch.rank = env_int("OMPI_COMM_WORLD_RANK", 0);
    launch.world_size = env_int("OMPI_COMM_WORLD_SIZE", 1);
    launch.local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK", 0);
    launch.launcher = "openmpi";
  } else if (env("SLURM_PROCID") != nullptr && env("SLURM_NTASKS") != nullptr) {
    launch.rank = env_int("SLURM_PROCID", 0);
    launch.world_size = env_int("SLURM_NTASKS", 1);
    launch.local_rank = env_int("SLURM_LOCALID", 0);
    launch.launcher = "slurm";
  } else {
    return launch;
  }
  if (launch.world_size < 1 || launch.rank < 0 || launch.rank >= launch.world_size) {
    throw Error(fmt::format("launch environment: rank {} is not within a world of {}", launch.rank,
                            launch.world_size));
  }
  if (const char* addr = env("MASTER_ADDR")) launch.master_addr = addr;
  launch.master_port = static_cast<int>(env_int("MASTER_PORT", 29500));
  const char* agent = env("TORCHELASTIC_USE_AGENT_STORE");
  launch.agent_store =
      agent != nullptr &&
      (std::string(agent) == "True" || std::string(agent) == "true" || std::string(agent) == "1");
  launch.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0);
  return launch;
}

c10::Device rank_device(const c10::Device& requested, const LaunchEnvironment& launch) {
  // A vendor device is indexed even in one process, so that logs and checks name mlu:0.
  const bool vendor = requested.type() == c10::DeviceType::PrivateUse1;
  if (!requested.is_cpu() && !requested.has_index() && (launch.world_size > 1 || vendor)) {
    return c10::Device(requested.type(), static_cast<c10::DeviceIndex>(launch.local_rank));
  }
  return requested;
}

}  // namespace mrcnn::distributed
