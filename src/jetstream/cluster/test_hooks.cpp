#include "jetstream/cluster/test_hooks.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "jetstream/cluster/stream_group.h"
#include "jetstream/headers.h"
#include "jetstream/jetstream.h"
#include "jetstream/store/message_store.h"
#include "server/account.h"
#include "server/server.h"
#include "util/ids.h"

namespace nats::jetstream {

namespace {

// This server's replica: role, leader, store state and the Nats-Msg-Id of every stored
// message in order (fault tests check no acknowledged message was lost or duplicated).
std::string stream_status(Server& server, std::string_view body) {
  auto j = nlohmann::ordered_json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !server.jetstream()) return {};
  auto sg = StreamGroup::find(*server.jetstream(), j.value("account", "$G"), j.value("stream", ""));
  if (!sg) return {};
  nlohmann::ordered_json out;
  out["server"] = server.name();
  out["is_leader"] = sg->is_leader();
  out["leader"] = sg->leader_name();
  auto& st = sg->stream()->store();
  StoreState ss = st.state();
  out["messages"] = ss.msgs;
  out["first_seq"] = ss.first_seq;
  out["last_seq"] = ss.last_seq;
  RaftStatus rs = sg->group()->status();
  out["catching_up"] = sg->catching_up();
  out["raft"] = {{"snapshot_index", rs.snapshot_index}, {"last_index", rs.last_index}, {"commit", rs.commit}};
  auto ci = sg->cluster_info();
  out["replicas"] = nlohmann::ordered_json::array();
  for (const auto& r : ci.replicas)
    out["replicas"].push_back({{"name", r.name}, {"current", r.current}, {"active", r.active_ns}, {"lag", r.lag}});
  if (j.value("ids", false)) {
    auto ids = nlohmann::ordered_json::array();
    StoredMsg m;
    for (uint64_t seq = 0; st.load_next_msg({}, seq, m) == StoreErr::ok; seq = m.seq + 1) {
      auto id = header_value(m.headers, kMsgIdHdr);
      ids.push_back(id ? std::string(*id) : std::string());
    }
    out["ids"] = std::move(ids);
  }
  return out.dump();
}

}  // namespace

std::shared_ptr<void> start_test_hooks(Server& server) {
  const char* on = std::getenv("NATSCPP_TEST_HOOKS");
  auto sys = server.system_account();
  if (!on || std::string(on) != "1" || !sys) return nullptr;
  Server* srv = &server;
  auto status = server.subscribe_internal(
      *sys, "$SYS.TEST.JS.STREAM.STATUS",
      [srv, sys](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                 std::string_view payload) {
        std::string answer = stream_status(*srv, payload);
        if (!answer.empty() && !reply.empty()) srv->publish_internal(*sys, reply, {}, {}, answer);
      });
  auto block = server.subscribe_internal(
      *sys, "$SYS.TEST.NRG.BLOCK",
      [srv, sys](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                 std::string_view payload) {
        auto j = nlohmann::json::parse(payload, nullptr, false);
        if (j.is_discarded() || j.value("server", "") != srv->name()) return;
        std::vector<std::string> ids;
        for (const auto& n : j.value("peers", nlohmann::json::array()))
          if (n.is_string()) ids.push_back(util::hash_name(n.get<std::string>()));
        RaftGroup::set_blocked_peers(srv, std::move(ids));
        if (!reply.empty()) srv->publish_internal(*sys, reply, {}, {}, R"({"ok":true})");
      });
  auto pause = server.subscribe_internal(
      *sys, "$SYS.TEST.JS.CATCHUP.PAUSE",
      [srv, sys](const Subscription&, std::string_view, std::string_view reply, std::string_view,
                 std::string_view payload) {
        auto j = nlohmann::json::parse(payload, nullptr, false);
        if (j.is_discarded() || j.value("server", "") != srv->name()) return;
        StreamGroup::set_catchup_paused(srv, j.value("paused", false));
        if (!reply.empty()) srv->publish_internal(*sys, reply, {}, {}, R"({"ok":true})");
      });
  return std::shared_ptr<void>(nullptr, [srv, sys, status, block, pause](void*) {
    srv->unsubscribe_internal(*sys, pause);
    srv->unsubscribe_internal(*sys, block);
    srv->unsubscribe_internal(*sys, status);
  });
}

}  // namespace nats::jetstream
