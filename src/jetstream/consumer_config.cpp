#include "jetstream/consumer_config.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <ctime>

#include "subject/subject.h"

namespace nats::jetstream {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

const char* to_string(DeliverPolicy p) {
  switch (p) {
    case DeliverPolicy::all: return "all";
    case DeliverPolicy::last: return "last";
    case DeliverPolicy::new_msgs: return "new";
    case DeliverPolicy::by_start_sequence: return "by_start_sequence";
    case DeliverPolicy::by_start_time: return "by_start_time";
    case DeliverPolicy::last_per_subject: return "last_per_subject";
  }
  return "all";
}
const char* to_string(AckPolicy p) {
  switch (p) {
    case AckPolicy::none: return "none";
    case AckPolicy::all: return "all";
    case AckPolicy::explicit_ack: return "explicit";
  }
  return "none";
}
const char* to_string(ReplayPolicy p) { return p == ReplayPolicy::instant ? "instant" : "original"; }

namespace cerr {
static ConsumerApiError e(int code, int err_code, std::string d) { return {code, err_code, std::move(d)}; }
// 2.9 answers a bare "invalid JSON" (the "{err}" detail came in 2.10).
ConsumerApiError invalid_json(const std::string&) { return e(400, 10025, "invalid JSON"); }
ConsumerApiError bad_request() { return e(400, 10003, "bad request"); }
ConsumerApiError stream_not_found() { return e(404, 10059, "stream not found"); }
ConsumerApiError consumer_not_found() { return e(404, 10014, "consumer not found"); }
ConsumerApiError consumer_name_exist() { return e(400, 10013, "consumer name already in use"); }
ConsumerApiError consumer_exists_active() { return e(400, 10105, "consumer already exists and is still active"); }
ConsumerApiError create(const std::string& detail) { return e(500, 10012, detail); }
ConsumerApiError stream_invalid_config(const std::string& detail) { return e(500, 10052, detail); }
ConsumerApiError invalid_policy(const std::string& detail) { return e(400, 10094, detail); }
ConsumerApiError wq_multiple_unfiltered() {
  return e(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream");
}
ConsumerApiError wq_not_unique() { return e(400, 10100, "filtered consumer not unique on workqueue stream"); }
ConsumerApiError wq_not_deliver_all() { return e(400, 10101, "consumer must be deliver all on workqueue stream"); }
ConsumerApiError wq_requires_explicit_ack() { return e(400, 10098, "workqueue stream requires explicit ack"); }
ConsumerApiError max_consumers() { return e(400, 10026, "maximum consumers limit reached"); }
ConsumerApiError stream_mismatch() { return e(400, 10056, "stream name in subject does not match request"); }
ConsumerApiError ephemeral_with_durable_in_subject() {
  return e(400, 10019, "consumer expected to be ephemeral but detected a durable name set in subject");
}
ConsumerApiError ephemeral_with_durable_name() {
  return e(400, 10020, "consumer expected to be ephemeral but a durable name was set in request");
}
ConsumerApiError durable_name_not_in_subject() {
  return e(400, 10016, "consumer expected to be durable but no durable name set in subject");
}
ConsumerApiError durable_name_not_match_subject() {
  return e(400, 10017, "consumer name in subject does not match durable name in request");
}
ConsumerApiError durable_name_not_set() {
  return e(400, 10018, "consumer expected to be durable but a durable name was not set");
}
ConsumerApiError filter_subject_mismatch() {
  return e(400, 10131, "Consumer create request did not match filtered subject from create subject");
}
ConsumerApiError bad_durable_name() { return e(400, 10103, "durable name can not contain '.', '*', '>'"); }
ConsumerApiError name_too_long() {
  return e(400, 10102, "consumer name is too long, maximum allowed is " + std::to_string(kMaxNameLen));
}
ConsumerApiError not_empty_request() { return e(400, 10038, "expected an empty request payload"); }
ConsumerApiError filter_not_subset() {
  return e(400, 10093, "consumer filter subject is not a valid subset of the interest subjects");
}
ConsumerApiError replicas_not_supported() {
  return e(500, 10074, "replicas > 1 not supported in non-clustered mode");
}
}  // namespace cerr

bool is_valid_consumer_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '.' || c == '*' || c == '>' || c == '/' || c == '\\' || std::isspace(static_cast<unsigned char>(c)))
      return false;
  }
  return true;
}

std::optional<int64_t> parse_rfc3339_ns(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto num = [&](size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) return false;
    auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + pos + len;
  };
  int Y, M, D, h, m, sec;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  if (!num(0, 4, Y) || !num(5, 2, M) || !num(8, 2, D) || !num(11, 2, h) || !num(14, 2, m) || !num(17, 2, sec))
    return std::nullopt;
  size_t p = 19;
  int64_t frac = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int digits = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      if (digits < 9) {
        frac = frac * 10 + (s[p] - '0');
        ++digits;
      }
      ++p;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) frac *= 10;
  }
  int64_t offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p + 6 == s.size() && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
    int oh, om;
    if (!num(p + 1, 2, oh) || !num(p + 4, 2, om)) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
    p += 6;
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm)) - offset;
  // Go accepts any year; nanoseconds since 1970 only reach 1677..2262, so clamp (no overflow).
  int64_t ns;
  if (__builtin_mul_overflow(secs, int64_t{1'000'000'000}, &ns) || __builtin_add_overflow(ns, frac, &ns))
    return secs < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return ns;
}

namespace {

// Go's unmarshal of a JSON number into an integer field rejects fractions and strings.
template <typename T>
bool get_int(const json& j, const char* key, T& out, std::string& err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) {
    err = std::string("json: cannot unmarshal ") + it->type_name() + " into Go struct field ConsumerConfig." + key;
    return false;
  }
  out = it->get<T>();
  return true;
}
bool get_str(const json& j, const char* key, std::string& out, std::string& err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) {
    err = std::string("json: cannot unmarshal ") + it->type_name() + " into Go struct field ConsumerConfig." + key;
    return false;
  }
  out = it->get<std::string>();
  return true;
}
bool get_bool(const json& j, const char* key, bool& out, std::string& err) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) {
    err = std::string("json: cannot unmarshal ") + it->type_name() + " into Go struct field ConsumerConfig." + key;
    return false;
  }
  out = it->get<bool>();
  return true;
}

}  // namespace

std::optional<ConsumerApiError> parse_consumer_config(const json& j, ConsumerConfig& c) {
  if (!j.is_object()) return cerr::invalid_json("json: cannot unmarshal into Go value of type server.ConsumerConfig");
  std::string err, s;
  bool ok = get_str(j, "durable_name", c.durable_name, err) && get_str(j, "name", c.name, err) &&
            get_str(j, "description", c.description, err) && get_int(j, "opt_start_seq", c.opt_start_seq, err) &&
            get_int(j, "ack_wait", c.ack_wait_ns, err) && get_int(j, "max_deliver", c.max_deliver, err) &&
            get_str(j, "filter_subject", c.filter_subject, err) &&
            get_int(j, "rate_limit_bps", c.rate_limit_bps, err) && get_str(j, "sample_freq", c.sample_freq, err) &&
            get_int(j, "max_waiting", c.max_waiting, err) && get_int(j, "max_ack_pending", c.max_ack_pending, err) &&
            get_bool(j, "flow_control", c.flow_control, err) && get_bool(j, "headers_only", c.headers_only, err) &&
            get_int(j, "max_batch", c.max_batch, err) && get_int(j, "max_expires", c.max_expires_ns, err) &&
            get_int(j, "max_bytes", c.max_bytes, err) && get_str(j, "deliver_subject", c.deliver_subject, err) &&
            get_str(j, "deliver_group", c.deliver_group, err) &&
            get_int(j, "idle_heartbeat", c.idle_heartbeat_ns, err) &&
            get_int(j, "inactive_threshold", c.inactive_threshold_ns, err) &&
            get_int(j, "num_replicas", c.num_replicas, err) && get_bool(j, "mem_storage", c.mem_storage, err) &&
            get_bool(j, "direct", c.direct, err);
  if (!ok) return cerr::invalid_json(err);

  if (auto it = j.find("deliver_policy"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return cerr::invalid_json("can not unmarshal deliver_policy");
    s = it->get<std::string>();
    if (s == "all" || s == "undefined") c.deliver_policy = DeliverPolicy::all;
    else if (s == "last") c.deliver_policy = DeliverPolicy::last;
    else if (s == "new") c.deliver_policy = DeliverPolicy::new_msgs;
    else if (s == "by_start_sequence") c.deliver_policy = DeliverPolicy::by_start_sequence;
    else if (s == "by_start_time") c.deliver_policy = DeliverPolicy::by_start_time;
    else if (s == "last_per_subject") c.deliver_policy = DeliverPolicy::last_per_subject;
    else return cerr::invalid_json("can not unmarshal \"" + s + "\"");
  }
  if (auto it = j.find("ack_policy"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return cerr::invalid_json("can not unmarshal ack_policy");
    s = it->get<std::string>();
    if (s == "none") c.ack_policy = AckPolicy::none;
    else if (s == "all") c.ack_policy = AckPolicy::all;
    else if (s == "explicit") c.ack_policy = AckPolicy::explicit_ack;
    else return cerr::invalid_json("can not unmarshal \"" + s + "\"");
  }
  if (auto it = j.find("replay_policy"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return cerr::invalid_json("can not unmarshal replay_policy");
    s = it->get<std::string>();
    if (s == "instant") c.replay_policy = ReplayPolicy::instant;
    else if (s == "original") c.replay_policy = ReplayPolicy::original;
    else return cerr::invalid_json("can not unmarshal \"" + s + "\"");
  }
  if (auto it = j.find("opt_start_time"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return cerr::invalid_json("can not unmarshal opt_start_time");
    c.opt_start_time_text = it->get<std::string>();
    c.opt_start_time_ns = parse_rfc3339_ns(c.opt_start_time_text);
    if (!c.opt_start_time_ns)
      return cerr::invalid_json("parsing time \"\\\"" + c.opt_start_time_text + "\\\"\" as RFC3339");
  }
  if (auto it = j.find("backoff"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return cerr::invalid_json("can not unmarshal backoff");
    for (auto& v : *it) {
      if (!v.is_number_integer()) return cerr::invalid_json("can not unmarshal backoff");
      c.backoff_ns.push_back(v.get<int64_t>());
    }
  }
  return std::nullopt;
}

void apply_consumer_defaults(ConsumerConfig& c, int64_t account_max_ack_pending) {
  // Reference: durable_name alone stays as is; a missing max_deliver means unlimited.
  if (c.max_deliver == 0) c.max_deliver = -1;
  if (c.deliver_subject.empty() && c.max_waiting == 0) c.max_waiting = kWaitQueueDefaultMax;
  if (c.ack_wait_ns == 0 && c.ack_policy != AckPolicy::none) c.ack_wait_ns = kAckWaitDefaultNs;
  if (!c.backoff_ns.empty()) c.ack_wait_ns = c.backoff_ns.front();
  if (c.max_ack_pending == 0 && c.ack_policy != AckPolicy::none) {
    c.max_ack_pending = kMaxAckPendingDefault;
    if (account_max_ack_pending > 0 && account_max_ack_pending < c.max_ack_pending)
      c.max_ack_pending = account_max_ack_pending;
  }
  // Ephemerals (no durable name) are cleaned up after 5 s without interest by default.
  if (c.durable_name.empty() && c.inactive_threshold_ns == 0) c.inactive_threshold_ns = kEphemeralInactiveDefaultNs;
}

std::optional<ConsumerApiError> validate_consumer_config(const ConsumerConfig& c, const StreamContext& st) {
  if (!c.name.empty() && !is_valid_consumer_name(c.name))
    return cerr::stream_invalid_config("consumer name can not contain '.', '*', '>', '\\', '/'");
  if (!c.durable_name.empty() && !is_valid_consumer_name(c.durable_name))
    return cerr::stream_invalid_config("consumer durable name can not contain '.', '*', '>', '\\', '/'");
  if (c.num_replicas > 0 && c.num_replicas > st.replicas)
    return ConsumerApiError{400, 10126, "consumer config replica count exceeds parent stream"};
  if (c.num_replicas < 0) return ConsumerApiError{400, 10133, "replicas count cannot be negative"};
  // 2.9 has no exception for an unlimited max_deliver (-1) here.
  if (!c.backoff_ns.empty() && c.max_deliver <= static_cast<int64_t>(c.backoff_ns.size()))
    return ConsumerApiError{400, 10116, "max deliver is required to be > length of backoff values"};
  if (c.description.size() > kMaxDescriptionLen)
    return ConsumerApiError{400, 10107, "consumer description is too long, maximum allowed is " +
                                            std::to_string(kMaxDescriptionLen)};
  if (c.is_push()) {
    if (subject_has_wildcard(c.deliver_subject))
      return ConsumerApiError{400, 10079, "consumer deliver subject has wildcards"};
    if (!is_valid_subject(c.deliver_subject))
      return ConsumerApiError{400, 10112, "invalid push consumer deliver subject"};
    // A deliver subject the stream itself captures would feed the stream its own output.
    for (auto& s : st.subjects)
      if (subject_matches(s, c.deliver_subject))
        return ConsumerApiError{400, 10081, "consumer deliver subject forms a cycle"};
    if (c.max_waiting != 0) return ConsumerApiError{400, 10080, "consumer in push mode can not set max waiting"};
    if (c.max_ack_pending > 0 && c.ack_policy == AckPolicy::none)
      return ConsumerApiError{400, 10082, "consumer requires ack policy for max ack pending"};
    if (c.idle_heartbeat_ns > 0 && c.idle_heartbeat_ns < 100'000'000)
      return ConsumerApiError{400, 10083, "consumer idle heartbeat needs to be >= 100ms"};
  } else {
    if (c.ack_policy == AckPolicy::none && st.retention == RetentionPolicy::workqueue)
      return ConsumerApiError{400, 10084, "consumer in pull mode requires ack policy"};
    if (c.rate_limit_bps > 0)
      return ConsumerApiError{400, 10086, "consumer in pull mode can not have rate limit set"};
    if (c.max_waiting < 0) return ConsumerApiError{400, 10087, "consumer max waiting needs to be positive"};
    if (c.idle_heartbeat_ns > 0)
      return ConsumerApiError{400, 10088, "consumer idle heartbeat requires a push based consumer"};
    if (c.flow_control) return ConsumerApiError{400, 10089, "consumer flow control requires a push based consumer"};
    if (c.max_batch < 0) return ConsumerApiError{400, 10114, "consumer max request batch needs to be > 0"};
    if (c.max_expires_ns != 0 && c.max_expires_ns < 1'000'000)
      return ConsumerApiError{400, 10115, "consumer max request expires needs to be >= 1ms"};
  }
  if (st.account_max_ack_pending > 0 && c.max_ack_pending > st.account_max_ack_pending)
    return ConsumerApiError{400, 10121, "consumer max ack pending exceeds system limit of " +
                                            std::to_string(st.account_max_ack_pending)};
  if (c.direct) {
    if (c.is_pull()) return ConsumerApiError{400, 10090, "consumer direct requires a push based consumer"};
    if (c.is_durable()) return ConsumerApiError{400, 10091, "consumer direct requires an ephemeral consumer"};
  }
  if (!c.filter_subject.empty()) {
    if (!is_valid_subject(c.filter_subject)) return cerr::stream_invalid_config("invalid subject");
    // The filter must be able to match something the stream stores.
    bool subset = st.subjects.empty();
    for (auto& s : st.subjects) {
      if (subject_is_subset_match(c.filter_subject, s) || subjects_collide(s, c.filter_subject)) {
        subset = true;
        break;
      }
    }
    if (!subset) return cerr::filter_not_subset();
  }
  auto bad_start = [](const char* dp, const char* start) {
    return cerr::invalid_policy(std::string("consumer delivery policy is deliver ") + dp + ", but optional start " +
                                start + " is also set");
  };
  auto not_set = [](const char* dp, const char* what) {
    return cerr::invalid_policy(std::string("consumer delivery policy is deliver ") + dp + ", but optional " + what +
                                " is not set");
  };
  switch (c.deliver_policy) {
    case DeliverPolicy::all:
      if (c.opt_start_seq > 0) return bad_start("all", "sequence");
      if (c.opt_start_time_ns) return bad_start("all", "time");
      break;
    case DeliverPolicy::last:
      if (c.opt_start_seq > 0) return bad_start("last", "sequence");
      if (c.opt_start_time_ns) return bad_start("last", "time");
      break;
    case DeliverPolicy::last_per_subject:
      if (c.opt_start_seq > 0) return bad_start("last per subject", "sequence");
      if (c.opt_start_time_ns) return bad_start("last per subject", "time");
      if (c.filter_subject.empty()) return not_set("last per subject", "filter subject");
      break;
    case DeliverPolicy::new_msgs:
      if (c.opt_start_seq > 0) return bad_start("new", "sequence");
      if (c.opt_start_time_ns) return bad_start("new", "time");
      break;
    case DeliverPolicy::by_start_sequence:
      if (c.opt_start_seq == 0) return not_set("by start sequence", "start sequence");
      if (c.opt_start_time_ns) return bad_start("by start sequence", "time");
      break;
    case DeliverPolicy::by_start_time:
      if (!c.opt_start_time_ns) return not_set("by start time", "start time");
      if (c.opt_start_seq != 0) return bad_start("by start time", "start sequence");
      break;
  }
  if (!c.sample_freq.empty()) {
    std::string_view s = c.sample_freq;
    if (!s.empty() && s.back() == '%') s.remove_suffix(1);
    int v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 0)
      return ConsumerApiError{400, 10095, "failed to parse consumer sampling configuration: strconv.Atoi: parsing \"" +
                                              std::string(s) + "\": invalid syntax"};
  }
  if (c.flow_control && c.idle_heartbeat_ns == 0)
    return ConsumerApiError{400, 10108, "consumer with flow control also needs heartbeats"};
  if (!c.durable_name.empty() && !c.name.empty() && c.name != c.durable_name)
    return ConsumerApiError{400, 10132, "Consumer Durable and Name have to be equal if both are provided"};
  return std::nullopt;
}

std::optional<ConsumerApiError> check_consumer_update(const ConsumerConfig& o, const ConsumerConfig& n) {
  // Reference stream.go checkConsumerConfigUpdate (2.9): errors are JSConsumerCreateErrF (10012).
  auto fail = [](const char* what) { return cerr::create(what); };
  if (o.deliver_policy != n.deliver_policy) return fail("deliver policy can not be updated");
  if (o.opt_start_seq != n.opt_start_seq) return fail("start sequence can not be updated");
  if (o.opt_start_time_ns != n.opt_start_time_ns) return fail("start time can not be updated");
  if (o.ack_policy != n.ack_policy) return fail("ack policy can not be updated");
  if (o.replay_policy != n.replay_policy) return fail("replay policy can not be updated");
  if (o.idle_heartbeat_ns != n.idle_heartbeat_ns) return fail("heart beats can not be updated");
  if (o.flow_control != n.flow_control) return fail("flow control can not be updated");
  if (o.max_waiting != n.max_waiting) return fail("max waiting can not be updated");
  // Push/pull may not switch; a push consumer may change its deliver subject.
  if (o.deliver_subject.empty() != n.deliver_subject.empty()) {
    if (o.deliver_subject.empty()) return fail("can not update pull consumer to push based");
    return fail("can not update push consumer to pull based");
  }
  // filter_subject, deliver_group and mem_storage may change in 2.9.
  return std::nullopt;
}

ojson consumer_config_json(const ConsumerConfig& c) {
  ojson j;
  if (!c.durable_name.empty()) j["durable_name"] = c.durable_name;
  if (!c.name.empty()) j["name"] = c.name;
  if (!c.description.empty()) j["description"] = c.description;
  j["deliver_policy"] = to_string(c.deliver_policy);
  if (c.opt_start_seq) j["opt_start_seq"] = c.opt_start_seq;
  if (c.opt_start_time_ns) j["opt_start_time"] = c.opt_start_time_text;
  j["ack_policy"] = to_string(c.ack_policy);
  if (c.ack_wait_ns) j["ack_wait"] = c.ack_wait_ns;
  if (c.max_deliver) j["max_deliver"] = c.max_deliver;
  if (!c.backoff_ns.empty()) j["backoff"] = c.backoff_ns;
  if (!c.filter_subject.empty()) j["filter_subject"] = c.filter_subject;
  j["replay_policy"] = to_string(c.replay_policy);
  if (c.rate_limit_bps) j["rate_limit_bps"] = c.rate_limit_bps;
  if (!c.sample_freq.empty()) j["sample_freq"] = c.sample_freq;
  if (c.max_waiting) j["max_waiting"] = c.max_waiting;
  if (c.max_ack_pending) j["max_ack_pending"] = c.max_ack_pending;
  if (c.idle_heartbeat_ns) j["idle_heartbeat"] = c.idle_heartbeat_ns;
  if (c.flow_control) j["flow_control"] = true;
  if (c.headers_only) j["headers_only"] = true;
  if (c.max_batch) j["max_batch"] = c.max_batch;
  if (c.max_expires_ns) j["max_expires"] = c.max_expires_ns;
  if (c.max_bytes) j["max_bytes"] = c.max_bytes;
  if (!c.deliver_subject.empty()) j["deliver_subject"] = c.deliver_subject;
  if (!c.deliver_group.empty()) j["deliver_group"] = c.deliver_group;
  if (c.inactive_threshold_ns) j["inactive_threshold"] = c.inactive_threshold_ns;
  j["num_replicas"] = c.num_replicas;
  if (c.mem_storage) j["mem_storage"] = true;
  if (c.direct) j["direct"] = true;
  return j;
}

}  // namespace nats::jetstream
