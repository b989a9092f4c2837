// Applying an account's subject mappings to a client's publish (the reference maps in
// processInboundClientMsg, for client connections only: messages from routes and gateways
// were mapped where they were published).
#include "server/account.h"

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
  for (const auto& m : mappings) {
    if (!m.matches(subject)) continue;
    return m.select(subject, m.cluster_scoped() ? cluster_name() : std::string(), mapping_rand());
  }
  return std::nullopt;
}

void install_account_mappings(Account& acc, const std::vector<MappingConfig>& configs) {
  for (const auto& mc : configs) {
    std::vector<MappingDestination> dests;
    for (const auto& d : mc.dests) dests.push_back(MappingDestination{d.subject, d.weight, d.cluster});
    auto m = SubjectMapping::create(mc.src, dests);
    if (auto* err = std::get_if<std::string>(&m)) throw std::runtime_error("mapping for \"" + mc.src + "\": " + *err);
    acc.mappings.push_back(std::get<SubjectMapping>(std::move(m)));
  }
}

}  // namespace nats
