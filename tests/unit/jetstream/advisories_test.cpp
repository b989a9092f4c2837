// The ack metric's sampling: sample_freq as the reference reads it ("50%" or "50"; anything
// else, or nothing, means no sampling) and shouldSample's edges (0: never, 100: always).
#include <gtest/gtest.h>

#include "jetstream/advisories.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using namespace nats::jetstream;

TEST(Advisories, SamplePercentParsesSampleFreq) {
  EXPECT_EQ(sample_percent(""), 0);
  EXPECT_EQ(sample_percent("100%"), 100);
  EXPECT_EQ(sample_percent("35"), 35);
  EXPECT_EQ(sample_percent("7%"), 7);
  EXPECT_EQ(sample_percent("x%"), 0);
}

TEST(Advisories, ShouldSampleEdges) {
  int at_zero = 0, at_full = 0, at_half = 0;
  for (int i = 0; i < 1000; ++i) {
    at_zero += should_sample(0);
    at_full += should_sample(100);
    at_half += should_sample(50);
  }
  EXPECT_EQ(at_zero, 0);
  EXPECT_EQ(at_full, 1000);
  // rand(100) <= 50: about 51%; far from both edges.
  EXPECT_GT(at_half, 350);
  EXPECT_LT(at_half, 650);
}

}  // namespace NATS_TEST_FILE_ID
