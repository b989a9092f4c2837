// natscli's Go-template helpers for bodies, subjects and headers: {{Count}}, {{.Count}},
// {{Cnt}}, {{Time}}, {{TimeStamp}}, {{Unix}}, {{UnixNano}}, {{ID}}, {{Request}},
// {{Random min max}}. Unknown actions are left as they are.
#pragma once

#include <string>

namespace nats::cli {

std::string expand_template(const std::string& body, int count, const std::string& request = "");

}  // namespace nats::cli
