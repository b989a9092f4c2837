// One JetStream API request, its answer reduced to what a test compares: shared by the account
// and tiered limit suites.
#pragma once

#include <nats/nats.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace itest {

// The answer's error, or its `field` (a dotted path such as "state.messages"; "missing <key>"
// where a key is not there), or the whole answer when `field` is empty; "no answer" when none
// comes within 5 s (generous: an answer is expected, a passing run never waits that long).
inline nlohmann::json js_ask(natsConnection* nc, const std::string& subj, const std::string& body,
                             const std::string& field = "") {
  using json = nlohmann::json;
  MsgPtr m;
  if (natsConnection_Request(&m.p, nc, subj.c_str(), body.data(), static_cast<int>(body.size()), 5000) != NATS_OK)
    return "no answer";
  auto j = json::parse(m.data(), nullptr, false);
  if (!j.is_object()) return m.data();
  if (j.contains("error")) return j["error"];
  if (field.empty()) return j;
  json v = j;
  for (size_t pos = 0; pos != std::string::npos;) {
    size_t dot = field.find('.', pos);
    std::string k = field.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    v = v.is_object() && v.contains(k) ? v[k] : json("missing " + k);
    pos = dot == std::string::npos ? dot : dot + 1;
  }
  return v;
}

}  // namespace itest
