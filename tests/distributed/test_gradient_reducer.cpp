// Gradient averaging during the backward pass, in a world of one (several ranks are covered by
// tests/cli/test_distributed.py).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "mrcnn/distributed/gradient_reducer.h"
#include "mrcnn/distributed/process_group.h"

namespace mrcnn::distributed {
namespace {

TEST(GradientReducer, BucketsGradientsAsTheyArriveAndFillsInUnusedParameters) {
  // A world of one: the mean over ranks is the gradient itself, which checks the bucketing,
  // the hooks and the copy back; several ranks are covered by tests/cli/test_distributed.py.
  const auto group = ProcessGroup::create({}, c10::Device("cpu"), "auto", std::chrono::seconds(5));
  std::vector<at::Tensor> parameters = {at::randn({3, 4}).requires_grad_(true),
                                        at::randn({5}).requires_grad_(true),
                                        at::randn({2, 2}).requires_grad_(true)};
  GradientReducer reducer(*group, parameters, /*bucket_bytes=*/64);
  EXPECT_EQ(reducer.bucket_count(), 2);  // {third, second}: 36 bytes; the first (48) alone
  for (int step = 0; step < 2; ++step) {
    for (auto& p : parameters) p.mutable_grad() = at::Tensor();
    reducer.begin();
    // The third parameter takes no part in this graph.
    ((parameters[0] * 2).sum() + (parameters[1] * parameters[1]).sum()).backward();
    // The bucket with the unused parameter holds back every bucket after it, so that all
    // ranks start their collectives in the same order.
    EXPECT_EQ(reducer.buckets_started(), 0);
    reducer.finish();
    EXPECT_TRUE(at::allclose(parameters[0].grad(), at::full({3, 4}, 2.0)));
    EXPECT_TRUE(at::allclose(parameters[1].grad(), 2 * parameters[1].detach()));
    EXPECT_TRUE(at::equal(parameters[2].grad(), at::zeros({2, 2})));
  }
  // With every parameter in the graph, both all-reduces start during the backward pass.
  for (auto& p : parameters) p.mutable_grad() = at::Tensor();
  reducer.begin();
  (parameters[0].sum() + parameters[1].sum() + parameters[2].sum()).backward();
  EXPECT_EQ(reducer.buckets_started(), 2);
  reducer.finish();
  EXPECT_TRUE(at::equal(parameters[2].grad(), at::ones({2, 2})));
}

TEST(GradientReducer, KeepsChannelsLastGradientsInTheirLayout) {
  const auto group = ProcessGroup::create({}, c10::Device("cpu"), "auto", std::chrono::seconds(5));
  std::vector<at::Tensor> parameters = {
      at::randn({4, 3, 2, 5}).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(true),
      at::randn({6}).requires_grad_(true)};
  GradientReducer reducer(*group, parameters, /*bucket_bytes=*/1 << 20);
  const at::Tensor weights = at::randn({4, 3, 2, 5});
  for (const bool conv_used : {true, false}) {  // unused: the reducer makes its gradient
    for (auto& p : parameters) p.mutable_grad() = at::Tensor();
    reducer.begin();
    at::Tensor loss = parameters[1].sum();
    if (conv_used) loss = loss + (parameters[0] * weights).sum();
    loss.backward();
    reducer.finish();
    EXPECT_TRUE(at::allclose(parameters[0].grad(), conv_used ? weights : at::zeros_like(weights)));
    EXPECT_TRUE(parameters[0].grad().is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(at::equal(parameters[1].grad(), at::ones({6})));
  }
}

}  // namespace
}  // namespace mrcnn::distributed
