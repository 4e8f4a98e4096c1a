#include "mrcnn/build/distributed_setup.h"

#include <fmt/format.h>

#include <atomic>

#include "mrcnn/runtime/device.h"

namespace mrcnn::build {

evaluation::EvalSharding DistributedRun::sharding(const std::string& key) const {
  evaluation::EvalSharding s;
  s.rank = launch.rank;
  s.world_size = launch.world_size;
  distributed::ProcessGroup* g = group.get();
  // Each gather gets its own store keys, so successive evaluations never mix.
  auto counter = std::make_shared<std::atomic<int64_t>>(0);
  s.gather_to_root = [g, key, counter](const std::string& bytes) {
    return g->gather_to_root(key + std::to_string(counter->fetch_add(1)), bytes);
  };
  return s;
}

DistributedRun setup_distributed(const config::Config& config, const c10::Device& requested,
                                 std::ostream* notes) {
  DistributedRun run;
  run.launch = distributed::read_launch_environment();
  run.device = distributed::rank_device(requested, run.launch);
  // A rank's own device (mlu:<local rank>) must exist too, and be current for this thread.
  if (run.device != requested) run.device = runtime::resolve_device(run.device.str());
  runtime::set_current_device(run.device);
  run.group = distributed::ProcessGroup::create(run.launch, run.device, config.dist_backend,
                                                std::chrono::seconds(config.dist_timeout));
  if (notes != nullptr && run.launch.world_size > 1 && run.is_root()) {
    *notes << fmt::format("distributed: {} ranks ({} launch), backend {}, store {}:{}\n",
                          run.launch.world_size, run.launch.launcher, run.group->backend_name(),
                          run.launch.master_addr, run.launch.master_port);
  }
  return run;
}

}  // namespace mrcnn::build
