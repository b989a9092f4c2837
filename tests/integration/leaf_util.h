// Helpers shared by the leaf node tests over TLS and WebSocket: leaf counts from /leafz, the
// wait for a hub and a leaf to see each other, and traffic across the link (messages both
// ways, then a small and a large request from the leaf to a service on the hub).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "cluster_test_util.h"

namespace ltest {

using ctest::Node;
using itest::milliseconds;

// Leaf connections /leafz counts on `n`; -1 when it does not answer.
inline int num_leafs(const Node& n) {
  auto j = ctest::http_json(n.http_port, "/leafz");
  return j.contains("leafnodes") ? j["leafnodes"].get<int>() : -1;
}

// Waits until the hub and the leaf each count exactly one leaf connection.
inline bool leafs_connected(const Node& hub, const Node& leaf, milliseconds timeout = milliseconds(10000)) {
  return itest::wait_for([&] { return num_leafs(hub) == 1 && num_leafs(leaf) == 1; }, timeout);
}

// Messages both ways, and requests from the leaf to `svc` on the hub: a small one, and one of
// `big` bytes (several TLS records or websocket frames; varied, so compression has work).
inline void leaf_exchange(const Node& hub, const Node& leaf, const std::string& svc, size_t big) {
  itest::ConnPtr h, l;
  ASSERT_EQ(itest::connect_url(h, hub.url()), NATS_OK);
  ASSERT_EQ(itest::connect_url(l, leaf.url()), NATS_OK);
  for (auto [from, to, subj] : {std::tuple{h.p, l.p, "to.leaf"}, std::tuple{l.p, h.p, "to.hub"}}) {
    itest::SubPtr s;
    ASSERT_EQ(natsConnection_SubscribeSync(&s.p, to, subj), NATS_OK);
    natsConnection_Flush(to);
    bool got = itest::wait_for([&] {
      natsConnection_PublishString(from, subj, "x");
      natsConnection_Flush(from);
      itest::MsgPtr m;
      return natsSubscription_NextMsg(&m.p, s.p, 100) == NATS_OK;
    }, milliseconds(8000));
    EXPECT_TRUE(got) << subj;
  }
  itest::SubPtr service;
  ASSERT_EQ(natsConnection_Subscribe(&service.p, h.p, svc.c_str(), ctest::echo_handler, nullptr), NATS_OK);
  natsConnection_Flush(h.p);
  ASSERT_TRUE(itest::wait_for([&] {
    itest::MsgPtr r;
    return natsConnection_RequestString(&r.p, l.p, svc.c_str(), "w", 300) == NATS_OK;
  }, milliseconds(8000)));
  std::string body(big, 'b');
  for (size_t i = 0; i < body.size(); i += 7) body[i] = static_cast<char>('a' + i % 26);
  itest::MsgPtr reply;
  ASSERT_EQ(natsConnection_Request(&reply.p, l.p, svc.c_str(), body.data(), static_cast<int>(body.size()), 5000),
            NATS_OK);
  EXPECT_EQ(reply.data(), "echo:" + body);
}

}  // namespace ltest
