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
  std::vector<MappingConfig> configs;
  for (const auto& [suffix, to] : kTable)
    configs.push_back(
        MappingConfig{"$JS." + domain + ".API." + suffix, {MappingDestConfig{.subject = to, .cluster = ""}}});
  auto compiled = compile_account_mappings(configs);
  // Checked and added in one edit: a JWT update may replace the list meanwhile.
  acc.edit_mappings([&](Account::MappingList& list) {
    for (auto& m : compiled) {
      bool taken = false;
      for (const auto& have : list) taken = taken || have.src() == m.src();
      if (!taken) list.push_back(std::move(m));
    }
  });
}

}  // namespace nats::jetstream
