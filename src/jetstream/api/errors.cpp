#include "jetstream/api/errors.h"

namespace nats::jetstream {

nlohmann::ordered_json ApiError::to_json() const {
  nlohmann::ordered_json j;
  j["code"] = code;
  j["err_code"] = err_code;
  j["description"] = description;
  return j;
}

ApiError api_error(const ErrDef& def) { return ApiError{def.code, def.err_code, def.description}; }

ApiError api_error(const ErrDef& def, std::initializer_list<std::pair<std::string_view, std::string_view>> args) {
  ApiError e = api_error(def);
  for (const auto& [key, value] : args) {
    for (size_t pos = e.description.find(key); pos != std::string::npos;
         pos = e.description.find(key, pos + value.size())) {
      e.description.replace(pos, key.size(), value);
    }
  }
  return e;
}

ApiError api_error(const ErrDef& def, std::string_view err) { return api_error(def, {{"{err}", err}}); }

}  // namespace nats::jetstream
