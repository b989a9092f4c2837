// r3-failover-client: the client side of the R3 fail-over example (scripts/run-example-r3.sh).
// It publishes `--count` messages asynchronously to a replicated stream (a window of
// publishes in flight, each with its own Nats-Msg-Id; one that is not acknowledged within
// 500 ms is sent again with the same id, so the stream's de-duplication makes retries safe),
// kills the stream leader with kill -9 once `--kill-at` messages are acknowledged (the leader
// is asked of STREAM.INFO, its pid comes from --pid name=pid), then verifies from the stream
// itself: every acknowledged id stored exactly once, at the sequence its PubAck named, and
// nothing else. Prints what it verified; exits 0 only if everything held.
//
// Usage: r3-failover-client --server URL --stream ORDERS --subject orders.new
//          [--count 3000] [--kill-at 1000] [--window 256] --pid n1=123 --pid n2=456 ...
#include <nats/nats.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Options {
  std::string server = "nats://127.0.0.1:4222", stream = "ORDERS", subject = "orders.new";
  int count = 3000, kill_at = 1000, window = 256;
  std::map<std::string, int> pids;
};

bool parse_args(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--server") o.server = v;
    else if (k == "--stream") o.stream = v;
    else if (k == "--subject") o.subject = v;
    else if (k == "--count") o.count = std::stoi(v);
    else if (k == "--kill-at") o.kill_at = std::stoi(v);
    else if (k == "--window") o.window = std::stoi(v);
    else if (k == "--pid" && v.find('=') != std::string::npos) o.pids[v.substr(0, v.find('='))] = std::stoi(v.substr(v.find('=') + 1));
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return false;
    }
  }
  return argc % 2 == 1 && o.count > 0 && o.window > 0;
}

std::string b64decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    auto p = chars.find(c);
    if (p == std::string::npos) continue;  // '=' padding
    buf = (buf << 6) | static_cast<uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

// Nats-Msg-Id out of a raw header block ("NATS/1.0\r\nName: value\r\n...").
std::string msg_id_of(const std::string& hdrs) {
  const std::string key = "Nats-Msg-Id:";
  auto p = hdrs.find(key);
  if (p == std::string::npos) return {};
  p += key.size();
  while (p < hdrs.size() && hdrs[p] == ' ') ++p;
  return hdrs.substr(p, hdrs.find("\r\n", p) - p);
}

json request(natsConnection* nc, const std::string& subject, const std::string& body, int64_t timeout_ms = 2000) {
  natsMsg* m = nullptr;
  if (natsConnection_RequestString(&m, nc, subject.c_str(), body.c_str(), timeout_ms) != NATS_OK) return nullptr;
  json j = json::parse(std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), nullptr, false);
  natsMsg_Destroy(m);
  return j.is_discarded() ? json(nullptr) : j;
}

// Publisher state shared with the PubAck callback.
struct Publisher {
  Options opt;
  natsConnection* nc = nullptr;
  std::string inbox;
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, Clock::time_point> in_flight;  // id number -> last sent
  std::map<int, uint64_t> acked;               // id number -> acknowledged sequence
  std::set<uint64_t> acked_seqs;
  int retries = 0, ack_conflicts = 0;
  Clock::time_point killed_at{}, resumed_at{};

  void send(int i) {  // mu held
    std::string id = "m" + std::to_string(i), reply = inbox + "." + std::to_string(i);
    natsMsg* m = nullptr;
    natsMsg_Create(&m, opt.subject.c_str(), reply.c_str(), id.data(), static_cast<int>(id.size()));
    natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
    natsConnection_PublishMsg(nc, m);  // while reconnecting, libnats buffers it
    natsMsg_Destroy(m);
    in_flight[i] = Clock::now();
  }

  static void on_ack(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Publisher*>(closure);
    std::string subj = natsMsg_GetSubject(msg);
    int i = std::atoi(subj.substr(subj.rfind('.') + 1).c_str());
    json a = json::parse(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)), nullptr, false);
    natsMsg_Destroy(msg);
    // An error or a "no responders" status (empty body) leaves it in flight: it is resent.
    if (a.is_discarded() || !a.is_object() || a.contains("error") || !a.contains("seq")) return;
    std::lock_guard lk(self->mu);
    auto it = self->in_flight.find(i);
    uint64_t seq = a["seq"].get<uint64_t>();
    if (auto prev = self->acked.find(i); prev != self->acked.end()) {
      if (prev->second != seq) ++self->ack_conflicts;  // a retry acknowledged at another sequence
      return;
    }
    if (it == self->in_flight.end()) return;
    if (self->killed_at != Clock::time_point{} && self->resumed_at == Clock::time_point{} &&
        it->second > self->killed_at)
      self->resumed_at = Clock::now();
    self->in_flight.erase(it);
    self->acked[i] = seq;
    if (!self->acked_seqs.insert(seq).second) ++self->ack_conflicts;  // two ids, one sequence
    self->cv.notify_all();
  }

  std::string leader() {
    json info = request(nc, "$JS.API.STREAM.INFO." + opt.stream, "");
    if (info.is_null() || !info.contains("cluster")) return {};
    return info["cluster"].value("leader", "");
  }

  void kill_leader() {
    std::string l = leader();
    auto it = opt.pids.find(l);
    if (it == opt.pids.end()) {
      std::printf("! stream leader '%s' has no --pid: nothing killed\n", l.c_str());
      return;
    }
    ::kill(it->second, SIGKILL);
    killed_at = Clock::now();
    std::printf("injected: kill -9 of the stream leader %s (pid %d) with %zu acknowledged and %zu in flight\n",
                l.c_str(), it->second, acked.size(), in_flight.size());
    std::fflush(stdout);
  }

  // Publishes everything; false if it did not finish within `limit`.
  bool run(milliseconds limit) {
    auto deadline = Clock::now() + limit;
    std::unique_lock lk(mu);
    int next = 1;
    bool killed = opt.kill_at <= 0;
    while (static_cast<int>(acked.size()) < opt.count) {
      if (Clock::now() > deadline) return false;
      while (next <= opt.count && static_cast<int>(in_flight.size()) < opt.window) send(next++);
      auto now = Clock::now();
      for (auto& [i, sent] : in_flight)
        if (now - sent > milliseconds(500)) {
          send(i);
          ++retries;
        }
      if (!killed && static_cast<int>(acked.size()) >= opt.kill_at) {
        killed = true;
        kill_leader();
      }
      cv.wait_for(lk, milliseconds(20));
    }
    return true;
  }
};

int run(const Options& opt) {
  natsOptions* no = nullptr;
  natsOptions_Create(&no);
  natsOptions_SetURL(no, opt.server.c_str());
  natsOptions_SetMaxReconnect(no, -1);
  natsOptions_SetReconnectWait(no, 100);
  Publisher p;
  p.opt = opt;
  if (natsConnection_Connect(&p.nc, no) != NATS_OK) {
    std::printf("! cannot connect to %s\n", opt.server.c_str());
    return 1;
  }
  natsOptions_Destroy(no);
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);
  p.inbox = inbox;
  natsInbox_Destroy(inbox);
  natsSubscription* sub = nullptr;
  natsConnection_Subscribe(&sub, p.nc, (p.inbox + ".*").c_str(), Publisher::on_ack, &p);
  natsSubscription_SetPendingLimits(sub, -1, -1);

  std::string first_leader = p.leader();
  std::printf("stream %s: leader %s; publishing %d messages asynchronously (up to %d in flight) through %s\n",
              opt.stream.c_str(), first_leader.c_str(), opt.count, opt.window, opt.server.c_str());
  std::fflush(stdout);
  bool done = p.run(milliseconds(60000));
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);

  bool ok = done;
  std::lock_guard lk(p.mu);
  std::printf("acknowledged: %zu of %d (resent %d after 500 ms without an ack)\n", p.acked.size(), opt.count,
              p.retries);
  if (p.killed_at != Clock::time_point{} && p.resumed_at != Clock::time_point{})
    std::printf("writes accepted again %lld ms after the kill (first ack of a publish sent after it)\n",
                static_cast<long long>(std::chrono::duration_cast<milliseconds>(p.resumed_at - p.killed_at).count()));
  if (p.ack_conflicts) {
    std::printf("! %d PubAcks disagreed (one id at two sequences, or two ids at one)\n", p.ack_conflicts);
    ok = false;
  }

  // The stream as it is now: a new leader, and exactly the acknowledged messages.
  json info;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    info = request(p.nc, "$JS.API.STREAM.INFO." + opt.stream, "");
    if (!info.is_null() && info.contains("state") && info["state"].value("messages", uint64_t{0}) >= p.acked.size()) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  if (info.is_null() || !info.contains("state")) {
    std::printf("! no STREAM.INFO answer after the run\n");
    natsConnection_Destroy(p.nc);
    return 1;
  }
  uint64_t msgs = info["state"].value("messages", uint64_t{0}), last = info["state"].value("last_seq", uint64_t{0});
  std::string leader = info.contains("cluster") ? info["cluster"].value("leader", "") : "";
  std::printf("stream after: %llu messages, last sequence %llu, leader %s (was %s)\n",
              static_cast<unsigned long long>(msgs), static_cast<unsigned long long>(last), leader.c_str(),
              first_leader.c_str());
  std::map<std::string, uint64_t> stored;  // id -> sequence
  int duplicates = 0, unreadable = 0, retried = 0;
  std::string first_unreadable;
  // 10008 "JetStream system temporarily unavailable" (a server that sees no meta leader for
  // now, as the reference answers) is worth a retry, as for any client; it is counted.
  auto temporarily_unavailable = [](const json& g) {
    return g.is_object() && g.contains("error") && g["error"].value("err_code", 0) == 10008;
  };
  for (uint64_t seq = 1; seq <= last; ++seq) {
    json g = request(p.nc, "$JS.API.STREAM.MSG.GET." + opt.stream, json{{"seq", seq}}.dump());
    for (auto until = Clock::now() + std::chrono::seconds(10); temporarily_unavailable(g) && Clock::now() < until;) {
      ++retried;
      std::this_thread::sleep_for(milliseconds(100));
      g = request(p.nc, "$JS.API.STREAM.MSG.GET." + opt.stream, json{{"seq", seq}}.dump());
    }
    if (g.is_null() || !g.contains("message")) {
      if (!unreadable++) first_unreadable = "sequence " + std::to_string(seq) + ": " + (g.is_null() ? "no answer" : g.dump());
      continue;
    }
    std::string id = msg_id_of(b64decode(g["message"].value("hdrs", "")));
    if (!stored.emplace(id, seq).second) ++duplicates;
  }
  int lost = 0, misplaced = 0;
  for (auto& [i, seq] : p.acked) {
    auto it = stored.find("m" + std::to_string(i));
    if (it == stored.end()) ++lost;
    else if (it->second != seq) ++misplaced;
  }
  if (retried) std::printf("(%d reads were answered 10008, temporarily unavailable, and retried)\n", retried);
  if (unreadable)
    std::printf("! %d stored messages could not be read back (first: %s)\n", unreadable, first_unreadable.c_str());
  std::printf("verified: %s lost (acknowledged but not stored): %d\n", lost ? "!" : "no", lost);
  std::printf("verified: %s duplicates (an id stored twice): %d\n", duplicates ? "!" : "no", duplicates);
  std::printf("verified: %s misplaced (stored at another sequence than acknowledged): %d\n",
              misplaced ? "!" : "no", misplaced);
  std::printf("verified: stream holds %llu messages for %zu acknowledged ids%s\n",
              static_cast<unsigned long long>(msgs), p.acked.size(), msgs == p.acked.size() ? "" : " !");
  ok = ok && !lost && !duplicates && !misplaced && !unreadable && msgs == p.acked.size() &&
       (p.killed_at == Clock::time_point{} || (!leader.empty() && leader != first_leader));
  std::printf("%s\n", ok ? "RESULT: OK" : "RESULT: FAILED");
  natsConnection_Destroy(p.nc);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse_args(argc, argv, opt)) {
    std::fprintf(stderr,
                 "usage: r3-failover-client --server URL --stream S --subject SUBJ [--count N] [--kill-at N] "
                 "[--window N] --pid name=pid ...\n");
    return 2;
  }
  int rc = run(opt);
  nats_Close();
  return rc;
}
