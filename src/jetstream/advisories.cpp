#include "jetstream/advisories.h"

#include "jetstream/advisory_mute.h"

#include <charconv>
#include <random>

#include <nlohmann/json.hpp>

#include "jetstream/api/api_router.h"
#include "jetstream/json_util.h"
#include "jetstream/store/message_store.h"
#include "server/server.h"
#include "util/ids.h"

namespace nats::jetstream {

namespace {
using ojson = nlohmann::ordered_json;

ojson typed_event(const char* type) {
  ojson j;
  j["type"] = type;
  j["id"] = util::next_nuid();
  j["timestamp"] = format_time(system_clock_ns());
  return j;
}

void add_domain(Server& srv, ojson& j) {
  const std::string& domain = srv.options().jetstream.domain;
  if (!domain.empty()) j["domain"] = domain;
}

void publish(Server& srv, Account& acc, const std::string& subject, const ojson& j) {
  srv.publish_internal(acc, subject, {}, {}, go_json_escape(j.dump(-1, ' ', false, ojson::error_handler_t::replace)));
}

const char* action_name(AdvisoryAction a) {
  switch (a) {
    case AdvisoryAction::create: return "create";
    case AdvisoryAction::remove: return "delete";
    case AdvisoryAction::modify: return "modify";
  }
  return "";
}

const char* action_subject(AdvisoryAction a) {
  switch (a) {
    case AdvisoryAction::create: return "CREATED";
    case AdvisoryAction::remove: return "DELETED";
    case AdvisoryAction::modify: return "UPDATED";
  }
  return "";
}
}  // namespace

ojson client_info(const std::string& account, int64_t rtt_ns, const std::string& server, const std::string& cluster) {
  ojson client;
  client["acc"] = account;
  if (rtt_ns > 0) client["rtt"] = rtt_ns;
  client["server"] = server;
  if (!cluster.empty()) client["cluster"] = cluster;
  return client;
}

ojson client_info(const ApiRequest& req) {
  // The account, the requester's rtt (when the request came straight from a client
  // connection) and the server the requester is connected to: this one, or the one that
  // forwarded the request; 2.9.10 names the requester's cluster when clustered.
  if (!req.client_server.empty()) return client_info(req.account.name(), req.rtt_ns, req.client_server, req.client_cluster);
  const auto& o = req.server.options();
  return client_info(req.account.name(), req.rtt_ns, req.server.name(),
                     o.cluster.configured ? o.cluster.name : std::string());
}

void send_snapshot_create(Server& srv, Account& acc, const std::string& stream, const ojson& state,
                          const ojson& client) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.snapshot_create");
  j["stream"] = stream;
  j["state"] = state;
  j["client"] = client;
  add_domain(srv, j);
  publish(srv, acc, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_CREATE." + stream, j);
}

void send_snapshot_complete(Server& srv, Account& acc, const std::string& stream, int64_t start_ns, int64_t end_ns,
                            const ojson& client) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.snapshot_complete");
  j["timestamp"] = format_time(end_ns);
  j["stream"] = stream;
  j["start"] = format_time(start_ns);
  j["end"] = format_time(end_ns);
  j["client"] = client;
  add_domain(srv, j);
  publish(srv, acc, "$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE." + stream, j);
}

void send_restore_create(Server& srv, Account& acc, const std::string& stream, const ojson& client) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.restore_create");
  j["stream"] = stream;
  j["client"] = client;
  add_domain(srv, j);
  publish(srv, acc, "$JS.EVENT.ADVISORY.STREAM.RESTORE_CREATE." + stream, j);
}

void send_restore_complete(Server& srv, Account& acc, const std::string& stream, int64_t start_ns, int64_t end_ns,
                           int64_t bytes, const ojson& client) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.restore_complete");
  j["timestamp"] = format_time(end_ns);
  j["stream"] = stream;
  j["start"] = format_time(start_ns);
  j["end"] = format_time(end_ns);
  j["bytes"] = bytes;
  j["client"] = client;
  add_domain(srv, j);
  publish(srv, acc, "$JS.EVENT.ADVISORY.STREAM.RESTORE_COMPLETE." + stream, j);
}

void send_api_audit(const ApiRequest& req, std::string_view response) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.api_audit");
  j["server"] = req.server.name();
  j["client"] = client_info(req);
  j["subject"] = std::string(req.subject);
  if (!req.payload.empty()) j["request"] = std::string(req.payload);
  j["response"] = std::string(response);
  add_domain(req.server, j);
  publish(req.server, req.account, "$JS.EVENT.ADVISORY.API", j);
}

void send_stream_action(Server& srv, Account& acc, const std::string& stream, AdvisoryAction action,
                        const std::string& template_owner) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.stream_action");
  j["stream"] = stream;
  j["action"] = action_name(action);
  if (!template_owner.empty()) j["template"] = template_owner;
  add_domain(srv, j);
  publish(srv, acc, std::string("$JS.EVENT.ADVISORY.STREAM.") + action_subject(action) + "." + stream, j);
}

void send_consumer_action(Server& srv, Account& acc, const std::string& stream, const std::string& consumer,
                          AdvisoryAction action) {
  if (AdvisoryMute::active()) return;
  ojson j = typed_event("io.nats.jetstream.advisory.v1.consumer_action");
  j["stream"] = stream;
  j["consumer"] = consumer;
  j["action"] = action_name(action);
  add_domain(srv, j);
  publish(srv, acc, std::string("$JS.EVENT.ADVISORY.CONSUMER.") + action_subject(action) + "." + stream + "." + consumer,
          j);
}

void send_consumer_event(Server& srv, Account& acc, const std::string& stream, const std::string& consumer,
                         ConsumerEvent kind, const ConsumerEventInfo& info) {
  const char* type = "";
  std::string subject;
  switch (kind) {
    case ConsumerEvent::nak:
      type = "io.nats.jetstream.advisory.v1.nak";
      subject = "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.";
      break;
    case ConsumerEvent::terminated:
      type = "io.nats.jetstream.advisory.v1.terminated";
      subject = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.";
      break;
    case ConsumerEvent::max_deliver:
      type = "io.nats.jetstream.advisory.v1.max_deliver";
      subject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.";
      break;
    case ConsumerEvent::ack:
      type = "io.nats.jetstream.metric.v1.consumer_ack";
      subject = "$JS.EVENT.METRIC.CONSUMER.ACK.";
      break;
  }
  ojson j = typed_event(type);
  j["stream"] = stream;
  j["consumer"] = consumer;
  if (kind != ConsumerEvent::max_deliver) j["consumer_seq"] = info.cseq;
  j["stream_seq"] = info.sseq;
  if (kind == ConsumerEvent::ack) j["ack_time"] = info.ack_time_ns;
  j["deliveries"] = info.deliveries;
  add_domain(srv, j);
  publish(srv, acc, subject + stream + "." + consumer, j);
}

int sample_percent(std::string_view s) {
  while (!s.empty() && s.back() == '%') s.remove_suffix(1);
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return 0;
  return v;
}

bool should_sample(int percent) {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  thread_local std::minstd_rand rng(std::random_device{}());
  return static_cast<int>(rng() % 100) <= percent;  // the reference's rand.Int31n(100) <= freq
}

}  // namespace nats::jetstream
