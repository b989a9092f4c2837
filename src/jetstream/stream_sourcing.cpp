// Stream's side of mirrors and sources: where an origin consumer starts, how what it
// delivers is stored (locally, or through the stream's log when replicated), and when the
// sourcing runs (stream_source.h does the consuming).
#include "jetstream/headers.h"
#include "jetstream/stream.h"
#include "jetstream/stream_source.h"
#include "server/account.h"
#include "util/log.h"

namespace nats::jetstream {

namespace {

std::string sourcing_key(const StreamConfig& c) {
  if (c.mirror.is_object()) return "m" + c.mirror.dump();
  if (c.sources.is_array() && !c.sources.empty()) return "s" + c.sources.dump();
  return {};
}

}  // namespace

void Stream::start_sourcing() {
  std::shared_ptr<StreamSourcing> old, fresh;
  {
    std::lock_guard lk(mu_);
    std::string key = sourcing_key(cfg_);
    bool run = !deleted_ && !key.empty() && (!repl_ || leader_);
    if (run && sourcing_ && key == sourcing_cfg_) return;
    old = std::move(sourcing_);
    sourcing_cfg_.clear();
    if (run) {
      fresh = std::make_shared<StreamSourcing>(weak_from_this(), cfg_.mirror.is_object(), source_specs(cfg_));
      sourcing_ = fresh;
      sourcing_cfg_ = key;
    }
  }
  if (old) old->stop();
  if (fresh) fresh->start();
}

void Stream::stop_sourcing() {
  std::shared_ptr<StreamSourcing> old;
  {
    std::lock_guard lk(mu_);
    old = std::move(sourcing_);
    sourcing_cfg_.clear();
  }
  if (old) old->stop();
}

Stream::SourcingPosition Stream::sourcing_position() {
  std::lock_guard lk(mu_);
  StoreState st = store_->fast_state();
  SourcingPosition p;
  p.last_seq = std::max(st.last_seq, repl_ && clseq_ > clfs_ ? clseq_ - clfs_ : 0);
  p.last_ts = std::max(st.last_ts, repl_ ? clts_ : 0);
  p.empty = st.msgs == 0 && st.first_seq == 0 && p.last_seq == 0;
  return p;
}

std::optional<uint64_t> Stream::last_sourced_seq(const std::string& iname) {
  {
    std::lock_guard lk(mu_);
    if (auto it = source_proposed_.find(iname); it != source_proposed_.end()) return it->second;
  }
  StoreState st = store_->fast_state();
  StoredMsg m;
  for (uint64_t seq = st.last_seq; seq >= st.first_seq && seq > 0; --seq) {
    if (store_->load_msg(seq, m) != StoreErr::ok || m.headers.empty()) continue;
    auto v = header_value(m.headers, "Nats-Stream-Source");
    std::string name;
    uint64_t sseq = 0;
    if (v && parse_stream_source_header(*v, name, sseq) && name == iname) return sseq;
  }
  return std::nullopt;
}

bool Stream::store_mirrored(uint64_t seq, int64_t ts, std::string_view subject, std::string_view headers,
                            std::string_view payload) {
  std::vector<StreamConsumerPtr> to_signal;
  bool interest_retention = false;
  {
    std::lock_guard lk(mu_);
    if (deleted_) return false;
    // What every stored message must pass, mirrored ones too (reference processJetStreamMsg).
    bool too_big = cfg_.max_msg_size >= 0 && headers.size() + payload.size() > static_cast<size_t>(cfg_.max_msg_size);
    if (cfg_.sealed || too_big) {
      log::warn("Error processing inbound mirror message for '{} > {}': {}", account().name(), name_,
                cfg_.sealed ? "stream sealed" : "message size exceeds maximum allowed");
      return false;
    }
    if (repl_) {
      if (!leader_) return false;
      if (seq <= clseq_) return true;  // proposed already
      if (!repl_->propose_msg(seq, ts, subject, {}, headers, payload)) return false;
      clseq_ = seq;
      clts_ = std::max(clts_, ts);
      return true;
    }
    if (seq <= store_->last_seq()) return true;
    // An empty mirror starts at the origin's first sequence, not with deleted ones before it.
    if (seq > store_->last_seq() + 1 && store_->fast_state().msgs == 0) store_->compact(seq);
    StoreResult sr = store_->store_msg_at(seq, ts, subject, headers, payload);
    if (sr.err != StoreErr::ok) {
      log::warn("Error processing inbound mirror message for '{} > {}': {}", account().name(), name_,
                store_err_text(sr.err));
      return false;
    }
    interest_retention = cfg_.retention == RetentionPolicy::interest;
    to_signal = consumers_;
  }
  after_store(seq, subject, headers, to_signal, interest_retention);
  return true;
}

bool Stream::store_sourced(const std::string& iname, uint64_t origin_seq, std::string_view subject,
                           std::string_view headers, std::string_view payload) {
  if (replicated()) {
    {
      std::lock_guard lk(mu_);
      if (!leader_) return false;
      auto it = source_proposed_.find(iname);
      if (it != source_proposed_.end() && origin_seq <= it->second) return true;  // proposed already
      source_proposed_[iname] = origin_seq;
    }
    ingest_as_leader(subject, {}, headers, payload);
    return is_leader();
  }
  PubResult r = store_inbound(subject, headers, payload);
  if (!r.error.empty()) {
    log::warn("Error processing inbound source message for '{} > {}': {}", account().name(), name_,
              r.error.description);
    return false;
  }
  return true;
}

nlohmann::ordered_json Stream::mirror_info() const {
  std::shared_ptr<StreamSourcing> s;
  {
    std::lock_guard lk(mu_);
    s = sourcing_;
  }
  return s ? s->mirror_info() : nlohmann::ordered_json();
}

nlohmann::ordered_json Stream::sources_info() const {
  std::shared_ptr<StreamSourcing> s;
  {
    std::lock_guard lk(mu_);
    s = sourcing_;
  }
  return s ? s->sources_info() : nlohmann::ordered_json();
}

}  // namespace nats::jetstream
