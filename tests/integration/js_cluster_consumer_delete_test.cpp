// CONSUMER.DELETE sent right after the consumer's create gets exactly one answer, as 2.9.10
// (where only the meta leader answers): the stream's leader, whose meta state may not have
// the new consumer yet, must not answer 10014 "consumer not found" while the meta leader
// deletes it. Repeated, since the double answer was a race. Every answer to each request is
// gathered (until 300 ms pass without one).
#include <gtest/gtest.h>

#include <string>

#include "js_members_util.h"
#include "js_r3_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace members;

TEST(JsMembers, ConsumerDeleteRightAfterCreateAnswersOnce) {
  Cluster c(3, 3);
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, c.node(0).url("a:a")), NATS_OK);
  json created = create_stream(nc.p, {{"name", "ORDERS"}, {"subjects", {"orders.>"}}, {"num_replicas", 3}});
  ASSERT_TRUE(created.contains("config")) << created.dump() << c.logs();
  for (int round = 1; round <= 10; ++round) {
    const std::string name = "D" + std::to_string(round);
    // R1 and R3 durables in turn: either may sit on servers other than the stream's leader.
    json cfg = {{"durable_name", name}, {"ack_policy", "explicit"}, {"num_replicas", round % 2 ? 1 : 3}};
    json made = request(nc.p, "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS." + name,
                        {{"stream_name", "ORDERS"}, {"config", cfg}});
    ASSERT_FALSE(made.contains("error")) << made.dump() << c.logs();
    ASSERT_EQ(made.value("name", ""), name) << made.dump();
    auto answers = r3::gather(nc.p, "$JS.API.CONSUMER.DELETE.ORDERS." + name, "");
    ASSERT_EQ(answers.size(), 1u) << "round " << round << ": " << json(answers).dump() << c.logs();
    EXPECT_EQ(answers[0], json({{"type", "io.nats.jetstream.api.v1.consumer_delete_response"}, {"success", true}}))
        << answers[0].dump();
  }
  // Deleting one that does not exist: one answer, 10014.
  auto answers = r3::gather(nc.p, "$JS.API.CONSUMER.DELETE.ORDERS.NOPE", "");
  ASSERT_EQ(answers.size(), 1u) << json(answers).dump();
  EXPECT_EQ(answers[0]["error"]["err_code"], 10014) << answers[0].dump();
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
