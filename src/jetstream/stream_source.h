#pragma once
// Mirrors and sources of one stream (reference stream.go: setupMirrorConsumer,
// setSourceConsumer, processInboundMirrorMsg/processInboundSourceMsg).
//
// For each origin the stream runs an internal push consumer on the origin stream, created
// with a `$JS.API.CONSUMER.CREATE` request (or the `external.api` prefix) like any client:
// ack none, max_deliver 1, 1 s idle heartbeats, flow control, direct. What arrives is stored:
// a mirror keeps the origin's sequences and times, a source appends with new sequences and a
// `Nats-Stream-Source: <index name> <origin seq>` header. The consumer is recreated from the
// last stored position after a gap (heartbeat's Nats-Last-Consumer differs, delivery
// sequence jumps) or when nothing arrived for 3 s. Only the stream leader runs this.
//
// One worker thread per sourcing stream handles the deliveries, the create responses and
// the health checks, so delivery callbacks (on the origin's threads) only queue.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "jetstream/api/errors.h"
#include "subject/subscription.h"

namespace nats::jetstream {

class Stream;
struct StreamConfig;

// One entry of `mirror` or `sources` as configured.
struct SourceSpec {
  std::string name;
  std::string iname;  // index name: name, or name:hash(api prefix) for external ones
  uint64_t opt_start_seq = 0;
  int64_t opt_start_time_ns = 0;
  std::string filter_subject;
  bool external = false;
  std::string api_prefix, deliver_prefix;
};

// The mirror (at most one) or the sources of cfg, parsed from its JSON.
std::vector<SourceSpec> source_specs(const StreamConfig& cfg);
// "<iname> <seq>" of a stored Nats-Stream-Source header (also the old ack-reply form).
bool parse_stream_source_header(std::string_view v, std::string& iname, uint64_t& seq);

class StreamSourcing : public std::enable_shared_from_this<StreamSourcing> {
 public:
  // mirror: the stream is a mirror (one spec) rather than sourcing (one per spec).
  StreamSourcing(std::weak_ptr<Stream> stream, bool mirror, std::vector<SourceSpec> specs);
  ~StreamSourcing();
  StreamSourcing(const StreamSourcing&) = delete;
  StreamSourcing& operator=(const StreamSourcing&) = delete;

  // Starts the worker (positions come from the stream's store); stop() cancels the
  // consumers' subscriptions and joins the worker.
  void start();
  void stop();
  // StreamSourceInfo of the mirror, or of every source, in configuration order.
  nlohmann::ordered_json mirror_info() const;
  nlohmann::ordered_json sources_info() const;

 private:
  struct Link;
  struct Event {
    size_t link;
    uint64_t gen;
    bool create_response;
    std::string subject, reply, headers, payload;
  };
  using Clock = std::chrono::steady_clock;

  void run();
  void handle(const std::shared_ptr<Stream>& s, Event& ev);
  void on_create_response(const std::shared_ptr<Stream>& s, Link& l, const std::string& payload);
  void on_control(const std::shared_ptr<Stream>& s, Link& l, const Event& ev);
  void on_mirror_msg(const std::shared_ptr<Stream>& s, Link& l, const Event& ev);
  void on_source_msg(const std::shared_ptr<Stream>& s, Link& l, const Event& ev);
  void health_check(const std::shared_ptr<Stream>& s);
  // Cancels the link's consumer and asks for a new one (at most every 2 s): a mirror after
  // its last stored sequence, a source after the last origin sequence it stored, else from
  // the configured start.
  void create_consumer(const std::shared_ptr<Stream>& s, Link& l);
  void cancel(const std::shared_ptr<Stream>& s, Link& l);
  nlohmann::ordered_json link_info(const Link& l) const;
  void enqueue(Event ev);

  std::weak_ptr<Stream> stream_;
  const bool mirror_;
  std::vector<std::unique_ptr<Link>> links_;
  mutable std::mutex mu_;  // links_' reported fields, queue_, stopping_
  std::condition_variable cv_;
  std::deque<Event> queue_;
  bool stopping_ = false;
  int ready_wait_ms_ = 0;  // the first pass runs at once, then polls for the server's start
  std::thread worker_;
};

}  // namespace nats::jetstream
