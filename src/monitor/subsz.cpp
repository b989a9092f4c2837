// /subsz: subscription index statistics, optionally with the subscriptions themselves.
#include <algorithm>

#include "monitor/endpoints.h"
#include "server/server.h"
#include "subject/subject.h"
#include "util/time_format.h"

namespace nats {

SubszOptions subsz_options_from_query(const std::multimap<std::string, std::string>& q) {
  SubszOptions o;
  for (auto& [k, v] : q) {
    if (k == "subs") o.subs = (v == "1" || v == "true" || v == "detail");
    else if (k == "offset") o.offset = std::atoi(v.c_str());
    else if (k == "limit") o.limit = std::atoi(v.c_str());
    else if (k == "test") o.test = v;
    else if (k == "acc") o.account = v;
  }
  if (!o.test.empty() && !is_valid_literal_subject(o.test)) throw MonitorError{400, "invalid test subject, must be valid publish subject"};
  if (o.limit <= 0) o.limit = 1024;
  if (o.offset < 0) o.offset = 0;
  return o;
}

Json subsz(Server& s, const SubszOptions& o) {
  SubListStats total;
  std::vector<std::pair<std::string, SubscriptionPtr>> subs;
  for (auto& acc : s.accounts()) {
    if (!o.account.empty() && acc->name() != o.account) continue;
    total.add(acc->sublist().stats());
    if (o.subs) {
      std::vector<SubscriptionPtr> all;
      acc->sublist().all_subscriptions(all);
      for (auto& sub : all) {
        if (!o.test.empty() && !subject_matches(sub->subject, o.test)) continue;
        subs.emplace_back(acc->name(), sub);
      }
    }
  }
  Json j;
  if (o.subs) {
    j["server_id"] = s.id();
    j["now"] = util::rfc3339_nano(std::chrono::system_clock::now());
  }
  j["num_subscriptions"] = total.num_subscriptions;
  j["num_cache"] = total.num_cache;
  j["num_inserts"] = total.num_inserts;
  j["num_removes"] = total.num_removes;
  j["num_matches"] = total.num_matches;
  j["cache_hit_rate"] = total.cache_hit_rate;
  j["max_fanout"] = total.max_fanout;
  j["avg_fanout"] = total.avg_fanout;
  if (o.subs) {
    size_t first = std::min<size_t>(o.offset, subs.size());
    size_t last = std::min<size_t>(first + o.limit, subs.size());
    j["total"] = subs.size();
    j["offset"] = o.offset;
    j["limit"] = o.limit;
    Json list = Json::array();
    for (size_t i = first; i < last; ++i) {
      auto& [acc, sub] = subs[i];
      Json d;
      d["account"] = acc;
      d["subject"] = sub->subject;
      if (!sub->queue.empty()) d["qgroup"] = sub->queue;
      d["sid"] = sub->sid;
      d["msgs"] = sub->delivered.load();
      if (sub->conn) d["cid"] = sub->conn->cid();
      list.push_back(std::move(d));
    }
    j["subscriptions_list"] = list;
  }
  return j;
}

}  // namespace nats
