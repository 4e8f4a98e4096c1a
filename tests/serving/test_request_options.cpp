// The predict query options: every accepted form, and a named error for everything else.
#include <gtest/gtest.h>

#include "mrcnn/common/error.h"
#include "mrcnn/serving/request_options.h"
#include "support/error_of.h"

namespace mrcnn::serving {
namespace {

using Query = std::multimap<std::string, std::string>;

TEST(PredictOptions, DefaultsKeepEveryDetectionWithRleMasks) {
  const PredictOptions o = parse_predict_options({});
  EXPECT_EQ(o.score_threshold, 0);
  EXPECT_EQ(o.max_detections, -1);
  EXPECT_EQ(o.masks, MaskFormat::kRle);
  EXPECT_EQ(o.timeout_ms, 0);
}

TEST(PredictOptions, EachOptionIsRead) {
  const PredictOptions o = parse_predict_options(Query{{"score_threshold", "0.25"},
                                                       {"max_detections", "7"},
                                                       {"masks", "polygon"},
                                                       {"timeout_ms", "1500"}});
  EXPECT_EQ(o.score_threshold, 0.25);
  EXPECT_EQ(o.max_detections, 7);
  EXPECT_EQ(o.masks, MaskFormat::kPolygon);
  EXPECT_EQ(o.timeout_ms, 1500);
  EXPECT_EQ(parse_predict_options(Query{{"masks", "none"}}).masks, MaskFormat::kNone);
}

TEST(PredictOptions, BadValuesAndUnknownNamesAreNamed) {
  const std::vector<std::pair<Query, std::string>> cases = {
      {{{"score_threshold", "1.5"}}, "score_threshold=1.5: expected a number from 0 to 1"},
      {{{"score_threshold", "abc"}}, "score_threshold=abc"},
      {{{"score_threshold", ""}}, "score_threshold="},
      {{{"score_threshold", "nan"}}, "score_threshold=nan"},
      {{{"max_detections", "-1"}}, "max_detections=-1: expected a whole number"},
      {{{"max_detections", "2.5"}}, "max_detections=2.5"},
      {{{"masks", "png"}}, "masks=png: expected rle, polygon or none"},
      {{{"timeout_ms", "soon"}}, "timeout_ms=soon"},
      {{{"threshold", "0.5"}}, "unknown query option 'threshold' (known: score_threshold"},
      {{{"masks", "rle"}, {"masks", "none"}}, "masks is given more than once"},
  };
  for (const auto& [query, expected] : cases) {
    const std::string message = testing::error_of([&] { parse_predict_options(query); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace mrcnn::serving
