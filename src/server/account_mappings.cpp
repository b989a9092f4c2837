// Applying an account's subject mappings to a client's publish (the reference maps in
// processInboundClientMsg, for client connections only: messages from routes and gateways
// were mapped where they were published).
#include "server/account.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace nats {

namespace {
uint32_t mapping_rand() {
  thread_local uint64_t s = 0x2545F4914F6CDD1DULL ^ reinterpret_cast<uintptr_t>(&s);
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return static_cast<uint32_t>(s >> 32);
}
}  // namespace

std::optional<std::string> Account::map_subject(std::string_view subject,
                                                const std::function<std::string()>& cluster_name) const {
  auto list = mappings();
  for (const auto& m : *list) {
    if (!m.matches(subject)) continue;
    return m.select(subject, m.cluster_scoped() ? cluster_name() : std::string(), mapping_rand());
  }
  return std::nullopt;
}

std::vector<SubjectMapping> compile_account_mappings(const std::vector<MappingConfig>& configs) {
  std::vector<SubjectMapping> out;
  for (const auto& mc : configs) {
    std::vector<MappingDestination> dests;
    for (const auto& d : mc.dests) dests.push_back(MappingDestination{d.subject, d.weight, d.cluster});
    auto m = SubjectMapping::create(mc.src, dests);
    if (auto* err = std::get_if<std::string>(&m)) throw std::runtime_error("mapping for \"" + mc.src + "\": " + *err);
    out.push_back(std::get<SubjectMapping>(std::move(m)));
  }
  return out;
}

void install_account_mappings(Account& acc, const std::vector<MappingConfig>& configs) {
  auto add = compile_account_mappings(configs);
  if (add.empty()) return;
  acc.edit_mappings([&](Account::MappingList& list) {
    for (auto& m : add) list.push_back(std::move(m));
  });
}

std::vector<std::string> replace_account_mappings(Account& acc, const std::vector<MappingConfig>& old_configs,
                                                  const std::vector<MappingConfig>& new_configs) {
  auto compiled = compile_account_mappings(new_configs);
  std::set<std::string> from_old;
  for (const auto& m : old_configs) from_old.insert(m.src);
  std::vector<std::string> added;
  acc.edit_mappings([&](Account::MappingList& list) {
    Account::MappingList next;
    std::set<std::string> placed;
    for (const auto& have : list) {
      auto it = std::find_if(compiled.begin(), compiled.end(), [&](const auto& m) { return m.src() == have.src(); });
      if (it != compiled.end()) {
        if (placed.insert(it->src()).second) next.push_back(*it);
      } else if (!from_old.count(have.src())) {
        next.push_back(have);  // added by the server itself (the JetStream domain's)
      }
    }
    for (const auto& m : compiled)
      if (placed.insert(m.src()).second) {
        next.push_back(m);
        added.push_back(m.src());
      }
    list = std::move(next);
  });
  return added;
}

}  // namespace nats
