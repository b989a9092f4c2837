#include "jetstream/cluster/meta_group.h"

namespace nats::jetstream {

struct MetaGroup::Impl {};

MetaGroup::MetaGroup(Server&) : impl_(std::make_unique<Impl>()) {}
MetaGroup::~MetaGroup() = default;
void MetaGroup::start() {}
void MetaGroup::shutdown() {}

}  // namespace nats::jetstream
