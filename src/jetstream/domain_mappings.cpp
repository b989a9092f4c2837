#include "jetstream/domain_mappings.h"

#include <utility>

#include "server/account.h"

namespace nats::jetstream {

void install_domain_mappings(Account& acc, const std::string& domain) {
  static const std::pair<const char*, const char*> kTable[] = {
      {"INFO", "$JS.API.INFO"},           {"STREAM.>", "$JS.API.STREAM.>"}, {"CONSUMER.>", "$JS.API.CONSUMER.>"},
      {"DIRECT.>", "$JS.API.DIRECT.>"},   {"META.>", "$JS.API.META.>"},     {"SERVER.>", "$JS.API.SERVER.>"},
      {"ACCOUNT.>", "$JS.API.ACCOUNT.>"}, {"$KV.>", "$KV.>"},               {"$OBJ.>", "$OBJ.>"},
  };
  std::vector<MappingConfig> add;
  for (const auto& [suffix, to] : kTable) {
    std::string src = "$JS." + domain + ".API." + suffix;
    bool taken = false;
    for (const auto& m : acc.mappings) taken = taken || m.src() == src;
    if (!taken) add.push_back(MappingConfig{src, {MappingDestConfig{to}}});
  }
  install_account_mappings(acc, add);
}

}  // namespace nats::jetstream
