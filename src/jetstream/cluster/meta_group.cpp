#include "jetstream/cluster/meta_group.h"

namespace nats::jetstream {

struct MetaGroup::Impl {};

MetaGroup::MetaGroup(Server&) : impl_(std::make_unique<Impl>()) {}
MetaGroup::~MetaGroup() = default;
void MetaGroup::start() {}
void MetaGroup::shutdown() {}
bool MetaGroup::is_leader() const { return false; }
std::string MetaGroup::leader_name() const { return {}; }
MetaSnapshot MetaGroup::snapshot() const { return {}; }
void MetaGroup::set_apply_handler(ApplyFn) {}
bool MetaGroup::propose(std::string) { return false; }
bool MetaGroup::step_down() { return false; }

}  // namespace nats::jetstream
