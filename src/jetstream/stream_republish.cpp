#include "jetstream/stream_republish.h"

#include <variant>

#include "jetstream/stream_config.h"
#include "subject/subject.h"

namespace nats::jetstream {

bool normalize_republish_json(nlohmann::ordered_json& rp) {
  if (rp.is_null()) return true;
  if (!rp.is_object()) return false;
  auto str = [&](const char* key, std::string& out) {
    auto it = rp.find(key);
    if (it == rp.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  std::string src, dest;
  bool headers_only = false;
  if (!str("src", src) || !str("dest", dest)) return false;
  if (auto it = rp.find("headers_only"); it != rp.end() && !it->is_null()) {
    if (!it->is_boolean()) return false;
    headers_only = it->get<bool>();
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!src.empty()) out["src"] = src;
  out["dest"] = dest;
  if (headers_only) out["headers_only"] = true;
  rp = std::move(out);
  return true;
}

std::string check_republish(nlohmann::ordered_json& rp, const std::vector<std::string>& subjects) {
  std::string src = rp.value("src", "");
  std::string dest = rp.value("dest", "");
  if (src.empty()) {
    src = ">";
    nlohmann::ordered_json out = {{"src", src}};
    for (auto& [k, v] : rp.items()) out[k] = v;
    rp = std::move(out);
  }
  bool src_valid = false, cycle = false;
  for (const auto& s : subjects) {
    src_valid = src_valid || subjects_collide(src, s);
    cycle = cycle || (!dest.empty() && subjects_collide(dest, s));
  }
  if (!src_valid) return "stream configuration for republish source is not valid subset of subjects";
  if (cycle) return "stream configuration for republish destination forms a cycle";
  if (dest.empty() || std::holds_alternative<std::string>(SubjectTransform::create(src, dest)))
    return "stream configuration for republish not valid";
  return {};
}

std::unique_ptr<Republisher> Republisher::from_config(const StreamConfig& cfg) {
  if (!cfg.republish.is_object()) return nullptr;
  std::string src = cfg.republish.value("src", "");
  if (src.empty()) src = ">";
  auto t = SubjectTransform::create(src, cfg.republish.value("dest", ""));
  if (auto* tr = std::get_if<SubjectTransform>(&t))
    return std::unique_ptr<Republisher>(new Republisher(std::move(*tr), cfg.republish.value("headers_only", false)));
  return nullptr;
}

std::optional<std::string> Republisher::destination(std::string_view subject) const {
  if (!subject_matches(transform_.src(), subject)) return std::nullopt;
  return transform_.apply(subject);
}

std::string republish_headers(std::string_view stored, std::string_view stream, std::string_view subject,
                              uint64_t seq, uint64_t last_seq, std::optional<size_t> msg_size) {
  std::string h;
  // The stored block ends with the blank line; the new fields go before it.
  if (stored.size() > 2) h.assign(stored.substr(0, stored.size() - 2));
  else h = "NATS/1.0\r\n";
  auto field = [&h](std::string_view k, std::string_view v) {
    h.append(k).append(": ").append(v).append("\r\n");
  };
  field("Nats-Stream", stream);
  field("Nats-Subject", subject);
  field("Nats-Sequence", std::to_string(seq));
  field("Nats-Last-Sequence", std::to_string(last_seq));
  if (msg_size) field("Nats-Msg-Size", std::to_string(*msg_size));
  h.append("\r\n");
  return h;
}

}  // namespace nats::jetstream

// The Stream members that drive it (declared in stream.h).
#include "jetstream/store/message_store.h"
#include "jetstream/stream.h"
#include "server/server.h"

namespace nats::jetstream {

std::optional<Stream::RepublishPlan> Stream::plan_republish_locked(std::string_view subject) {
  if (!republish_) return std::nullopt;
  auto dest = republish_->destination(subject);
  if (!dest) return std::nullopt;
  RepublishPlan plan{std::move(*dest)};
  StoredMsg last;
  if (store_->load_last_msg(subject, last) == StoreErr::ok) plan.last_seq = last.seq;
  return plan;
}

void Stream::queue_republish_locked(const RepublishPlan& plan, uint64_t seq, std::string_view subject,
                                    std::string_view headers, std::string_view payload) {
  bool headers_only = republish_->headers_only();
  std::optional<size_t> size;
  if (headers_only) size = payload.size();
  RepublishMsg m{plan.dest, republish_headers(headers, name_, subject, seq, plan.last_seq, size),
                 headers_only ? std::string() : std::string(payload)};
  std::lock_guard lk(republish_mu_);
  republish_q_.push_back(std::move(m));
}

void Stream::flush_republish() {
  if (!republish_) return;
  std::unique_lock lk(republish_mu_);
  if (republish_draining_) return;  // that thread sends ours too, in order
  republish_draining_ = true;
  while (!republish_q_.empty()) {
    RepublishMsg m = std::move(republish_q_.front());
    republish_q_.pop_front();
    lk.unlock();
    server().publish_internal(account_, m.subject, {}, m.headers, m.payload);
    lk.lock();
  }
  republish_draining_ = false;
}

}  // namespace nats::jetstream
