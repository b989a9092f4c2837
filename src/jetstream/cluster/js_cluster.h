#pragma once
// Clustered JetStream on one server: the meta state replicated through the meta group, the
// placement of new assets by the meta leader, the hosting of the assets assigned to this
// server, and the rule that decides which server answers each `$JS.API` request.
//
// Every server receives every API request of its accounts (interest crosses routes and
// gateways) and every server holds the same meta state, so each decides alone, and exactly
// one answers:
//  - stream/consumer create, update and delete (ephemerals too, as 2.9.10; not the direct
//    consumers of mirrors and sources, which live with their stream): the meta leader validates,
//    places and proposes an entry; once it applies, the servers hosting the asset run the
//    original request through their local handlers, which act on the local asset and answer
//    the client (as the reference, where the asset's leader answers);
//  - INFO, STREAM.NAMES/LIST, CONSUMER.NAMES/LIST: the meta leader, from the meta state (LIST
//    gathers the infos from their hosts);
//  - everything naming a stream (info, get, purge, consumers, pulls...): the server hosting
//    the stream; the meta leader answers for streams the meta state does not know (10059).
// R>1 streams run through the replication layer (stream_group.h) on every peer; their
// group leader answers. Scaling down (R>1 -> R1) keeps the stream leader's copy. Other
// replica changes, moves (placement changes of R>1 streams), STREAM.PEER.REMOVE and
// SERVER.REMOVE change a group's peers (stream_peers.cpp): new servers join and catch up,
// then the old ones leave. Consumers of an R>1 stream are replicated too (consumer_group.h;
// replicas default to the stream's), their group leader answers for them; they follow their
// stream's peer changes in the same meta entry (consumer_follow.h), from and to plain R1
// consumers when the stream scales from or to R1. An R1 stream moves through a group of two
// (finish_r1_move). Refused (10134, as 2.9.12+): consumers on other peers than their
// replicated work-queue or interest stream.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "jetstream/cluster/meta_state.h"
#include "jetstream/consumer_state.h"
#include "jetstream/cluster/placement.h"
#include "jetstream/cluster/stream_gate.h"

namespace nats {
class Account;
}  // namespace nats

namespace nats::jetstream {

class Consumer;
class JetStream;
class MetaGroup;
class Stream;
class StreamGroup;
struct ApiRequest;
struct JsAccount;

// The assignment of a clustered STREAM.RESTORE (its origin is the restore request).
bool is_restore_origin(const RequestOrigin& origin);
// Whether a consumer create's body carries the "restored" mark (stream_restore.cpp).
bool is_restored_consumer_body(const std::string& body);

// js_cluster.cpp: apply, hosting and routing; cluster_leader_api.cpp: the meta leader's
// request handlers.
class JsCluster {
 public:
  JsCluster(JetStream& js, MetaGroup& meta);
  ~JsCluster();
  JsCluster(const JsCluster&) = delete;
  JsCluster& operator=(const JsCluster&) = delete;

  // The meta group's apply hook: one committed entry.
  void apply(const std::string& data);
  // Meta snapshots (meta_snapshot.cpp): the state as one blob, and the reset to one, which
  // also brings this server's assets in line with it (starts what is assigned here and not
  // running, stops what the snapshot no longer assigns here).
  std::string snapshot() const;
  void restore(const std::string& blob);
  // Every few ticks: the leader of each replicated stream hosted here brings the Raft
  // membership in line with the assignment (one change at a time); a replica no longer
  // assigned here stops, and deletes its data, once its group has let it go.
  void reconcile_stream_peers();
  // `$JS.API.SERVER.REMOVE` on the leader: proposes the removal. False when not leader.
  bool propose_remove_peer(const std::string& peer_id);
  // A JWT update switched the account's JetStream on (it has its JsAccount again): start the
  // streams and consumers the meta state assigns here. Off (its JsAccount already out of
  // JetStream's map): stop its replicated consumers' and streams' groups here, files kept.
  // Both on the meta group's thread (account_switch.cpp).
  void host_account(const std::string& account);
  void unhost_account(JsAccount& jsa);
  // Decides whether this server answers `req` (rest: subject after "$JS.API.") and answers.
  void route(ApiRequest& req, std::string_view rest);

  std::optional<StreamAssignment> stream(const std::string& account, const std::string& name) const;
  // STREAM.INFO "alternates" (reference streamAlternates): the stream and its mirrors with
  // their clusters, `cluster`'s first; null when the stream has no mirror.
  nlohmann::ordered_json stream_alternates(const std::string& account, const std::string& stream,
                                           const std::string& domain, const std::string& cluster) const;
  std::vector<StreamAssignment> streams(const std::string& account) const;
  // Names of the consumers the meta log placed on a stream.
  std::vector<std::string> consumer_names(const std::string& account, const std::string& stream) const;
  // Placement candidates: this server and every server the $SYS directory knows.
  std::vector<PlacementCandidate> candidates() const;
  const std::string& self_id() const { return self_id_; }
  // The reference's /healthz asset check: empty when every stream and consumer placed on this
  // server runs here (a replicated stream: current with its group), else the first
  // "JetStream stream 'A > S' is not current" / "JetStream consumer 'A > S > C' is not current".
  std::string health_error() const;
  // `$JS.API.ACCOUNT.PURGE.<account>` (account_purge.h): on the meta leader, proposes the
  // removal of each of the account's streams (their hosts delete them with their consumers,
  // as a STREAM.DELETE without reply). False when not the leader.
  bool purge_account(const std::string& account);

 private:
  bool is_leader() const;
  // Answers an API request sent through the meta log (proposal) and its checks.
  void leader_stream_create(ApiRequest& req, std::string_view rest);
  // A new stream (create or restore) against the account's limits: its tier's other streams
  // as the meta state assigns them (count, reservation). The caller holds mu_.
  ApiError new_stream_limits_error(const Account& account, const StreamConfig& cfg) const;
  // Places a new stream's group and fills its assignment; nullopt with `e` when placement
  // fails. preferred_always: the first peer is the preferred one even for R1 (a restore: it
  // receives the upload); else only for R>1 (a create).
  std::optional<StreamAssignment> assign_new_stream(const std::string& account, StreamConfig cfg, RequestOrigin origin,
                                                    bool preferred_always, ApiError& e) const;
  // The account's stream configs as the meta state has them (mirror/sources checks).
  StreamConfigLookup origin_lookup(const std::string& account);
  // What the stream's leader reported (its STREAM.INFO `cluster`) before an update that needs
  // it: a move, a scale-down to R1. Empty when nobody answered.
  struct StreamLeaderView {
    std::string leader;  // server name
    nlohmann::ordered_json cluster;
  };
  // seen: the second pass of a move or scale-down, after ask_stream_leader.
  void leader_stream_update(ApiRequest& req, std::string_view rest, const StreamLeaderView* seen = nullptr);
  // Asks the stream's leader for its info (as STREAM.LIST asks), then runs the update again.
  void ask_stream_leader(ApiRequest& req, std::string_view rest, const StreamAssignment& cur);
  // A move while the last peer change of the stream's group has not finished is refused
  // (10124, as the reference): the group's members as its leader reports them must be the
  // assignment's peers.
  ApiError move_in_progress(const StreamLeaderView& seen, const StreamAssignment& cur) const;
  void leader_stream_delete(ApiRequest& req, std::string_view rest);
  // Clustered STREAM.RESTORE (stream_restore.cpp): the meta leader places and proposes; on
  // the peers the assignment applies through apply_restore (the first peer receives the
  // upload); finish_restores (meta thread, each tick) turns a stream restored here into its
  // group's seed and asks the meta leader to assign its consumers.
  void leader_stream_restore(ApiRequest& req, std::string_view rest);
  void apply_restore(const StreamAssignment& sa, const RequestOrigin& origin, bool live);
  void finish_restores();
  // A durable create marked "restored" is this server's own, for a stream a restore made and
  // a consumer not placed yet (else the mark is dropped).
  bool restored_consumer(const ApiRequest& req, const std::string& stream, const std::string& consumer);
  void leader_consumer_create(ApiRequest& req, std::string_view rest, bool durable_api);
  void leader_consumer_delete(ApiRequest& req, std::string_view rest, const ConsumerAssignment& ca);
  void leader_stream_names(ApiRequest& req, bool list);
  // CONSUMER.NAMES/LIST from the meta assignments (LIST gathers the infos from the hosts).
  void leader_consumer_names(ApiRequest& req, std::string_view rest, bool list);
  void leader_account_info(ApiRequest& req);
  // The meta peers this leader considers offline (id -> name): LIST does not ask their assets.
  std::map<std::string, std::string> offline_peers() const;
  // Peer changes of replicated streams (stream_peers.cpp). `$JS.API.STREAM.PEER.REMOVE`:
  // the meta leader replaces the peer with another server of the cluster (or drops it).
  void leader_stream_peer_remove(ApiRequest& req, std::string_view rest);
  // Proposes `sa` without `peer` (replaced when placement finds a server); true if replaced.
  bool remap_stream_peer(const StreamAssignment& sa, const std::string& peer);
  // A server left the meta group: every stream it hosted gets a replacement.
  void replace_removed_peer(const std::string& peer);
  // An update that changed a replicated stream's peers (same group): a new peer starts its
  // replica as a joining member; a leaving one runs until the group has removed it.
  // From R1, the one peer turns its plain stream into a group of itself and seeds it with a
  // snapshot of the store, so joining servers copy the messages it already had.
  void apply_peer_change(const MetaChange& ch, const RequestOrigin& origin, bool live);
  // reconcile_stream_peers on the leader of a moving R1 stream's group of two.
  void finish_r1_move(const StreamAssignment& sa, StreamGroup& sg);
  // The request on the server hosting the named stream (or 10059 from the meta leader).
  void route_to_stream_host(ApiRequest& req, std::string_view rest, const std::string& stream);
  // CONSUMER.DELETE of a consumer this server's meta state does not have: an ephemeral (its
  // stream's host answers) or a durable whose create this follower has not applied yet (the
  // meta leader answers). The stream's host answers "not found" only once its meta state
  // has caught up with the leader's as of the request (when_meta_caught_up), so a delete
  // sent right after the create gets exactly one answer.
  void route_unknown_consumer_delete(ApiRequest& req, std::string_view rest, const std::string& stream,
                                     const std::string& consumer);
  // CONSUMER.INFO of a consumer this server has no assignment of: as 2.9.10 only the meta
  // leader says "not found"; ours lets the stream's host answer (also for a mirror's or
  // source's direct consumer, which the meta log does not place), but only once its meta
  // state has caught up as of the request: an ephemeral whose create was just answered by
  // another server may not be applied here yet (it was answered 10014 "consumer not found").
  void route_unknown_consumer_info(ApiRequest& req, std::string_view rest, const std::string& stream,
                                   const std::string& consumer);
  // Runs `then` with a copy of the request once this server's meta state holds every entry
  // the meta leader had committed as of now (MetaGroup::read_index_since: the leader is
  // asked, a follower's own view of the commit index may be stale; polled up to 1 s);
  // `since`: now.
  void when_meta_caught_up(ApiRequest& req, std::string_view rest,
                           std::function<void(ApiRequest&, const std::string&, std::chrono::steady_clock::time_point)> then);
  // The cluster the request came in on: a reply mapped by a gateway names it.
  std::string origin_cluster(std::string_view reply) const;
  RequestOrigin origin_of(const ApiRequest& req, std::string_view rest) const;
  bool propose(const MetaEntry& e, ApiRequest& req, std::string_view rest);
  // Runs the entry's request through the local handlers (answering only a live request);
  // `assigned_name`: a consumer create's name from the meta leader (ephemerals).
  void run_locally(const RequestOrigin& origin, const std::string& assigned_name = {});
  void apply_replicated_stream(const MetaChange& ch, const RequestOrigin& origin, bool live);
  void apply_scale_down(const MetaChange& ch, const RequestOrigin& origin, bool live);
  // Replicated (R>1) consumers (cluster_consumers.cpp).
  void apply_replicated_consumer(const MetaChange& ch, const RequestOrigin& origin, bool live);
  void stop_replicated_consumers(const StreamAssignment& sa);
  // The stream's update moved replicated consumers (consumer_follow.h): a server new to a
  // consumer's peers starts its replica as a joining member (its leader adds it, and it
  // catches up from the leader's log or snapshot); leaving ones run until their group lets
  // them go (reconcile_consumer_peers).
  void apply_consumers_following(const StreamAssignment& before, const StreamAssignment& after, bool live);
  // R1 durables moving with a stream update (consumer_follow.h, r1_handoff.h): the old host
  // releases them (before its replica stops), the new host adopts them (after its stream runs).
  void release_r1_durables(const StreamAssignment& before, const StreamAssignment& after);
  void adopt_r1_durables(const StreamAssignment& before, const StreamAssignment& after);
  // reconcile_stream_peers' part for replicated consumers hosted here.
  void reconcile_consumer_peers();
  // A stream scaled down to R1: its replicated consumers stop; on the kept peer each one's
  // committed state goes into `kept`, and start_consumers_scaled_down runs them from it as
  // plain consumers of the reopened stream. `carried`: the kept peer's stopped plain
  // consumers that have no files to be restored from (ephemerals, a memory stream's
  // durables); they go on in the reopened stream with their state, creation time and last
  // activity (2.9.10 keeps the same consumer object through the scale-down).
  void stop_consumers_scaled_down(const StreamAssignment& before, const StreamAssignment& after,
                                  std::map<std::string, ConsumerSnapshot>& kept);
  void start_consumers_scaled_down(const std::shared_ptr<Stream>& stream, const StreamAssignment& after,
                                   const std::map<std::string, ConsumerSnapshot>& kept,
                                   const std::vector<std::shared_ptr<Consumer>>& carried);
  // Starts a replicated consumer's group on this peer (reply: the create's, answered by
  // its leader; empty when recovering); logs and returns false when it cannot.
  bool start_replicated_consumer(const std::shared_ptr<Stream>& stream, const ConsumerAssignment& ca,
                                 const std::string& reply, ApiError& err);
  bool consumer_current(const ConsumerAssignment& ca) const;
  // CONSUMER.INFO / CONSUMER.LEADER.STEPDOWN of a replicated consumer: true when handled
  // (answered, or left to its leader).
  bool route_replicated_consumer(ApiRequest& req, std::string_view rest, std::string_view prefix,
                                 const ConsumerAssignment& ca);
  // Answers a create once the group has a leader, if this server is that leader (as the
  // reference's new leader answers, with its replicas); `fallback`: answers anyway when no
  // leader shows up in time. `announce`: then sends the CREATED advisory.
  void reply_when_led(JsAccount& jsa, std::shared_ptr<Stream> s, std::string reply, std::string type, bool did_create,
                      int tries = 0, bool announce = false, bool fallback = true);
  std::string local_reply(const std::string& reply) const;
  void apply_remove_peer(const MetaEntry& e);
  // This server was removed: advisory, then JetStream disabled here (as 2.9.10).
  void disable_removed_self();
  // Snapshot restore: start/stop local assets to match `now` (what `before` assigned here
  // and `now` does not is stopped and its data deleted).
  // only: just that account's assets (host_account).
  void reconcile_local_assets(const MetaState& before, const MetaState& now, const std::string* only = nullptr);
  static constexpr int kLeaderWaitTries = 60;  // x 50 ms

  // While this server changes a stream (stream_gate.h): requests about it are held, then
  // routed again. A scope; nests.
  class StreamWindow {
   public:
    StreamWindow(JsCluster& c, std::string key);
    ~StreamWindow();
    StreamWindow(const StreamWindow&) = delete;
    StreamWindow& operator=(const StreamWindow&) = delete;

   private:
    JsCluster& c_;
    std::string key_;
  };
  StreamGate gate_;

  JetStream& js_;
  MetaGroup& meta_;
  std::string self_id_, self_name_, self_cluster_;
  int64_t started_ns_;
  mutable std::mutex mu_;  // guards state_
  MetaState state_;
  // When each consumer (account, stream, name) was last deleted through the meta log (10 s).
  std::map<std::string, std::chrono::steady_clock::time_point> consumers_removed_;
  std::set<std::string> seed_snapshot_;  // groups scaled up from R1 here (meta loop only)
  std::mutex restored_mu_;
  std::vector<std::pair<std::string, std::string>> restored_;  // (account, stream) restored here, for finish_restores
  std::map<std::string, std::chrono::steady_clock::time_point> move_finish_sent_;  // by group (meta loop)
};

}  // namespace nats::jetstream
