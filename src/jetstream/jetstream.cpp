#include "jetstream/jetstream.h"

#include "server/server.h"

namespace nats::jetstream {

struct JetStream::Impl {
  JetStreamLimits limits;
  std::string store_dir;
};

JetStream::JetStream(Server& server) : impl_(std::make_unique<Impl>()) {
  impl_->store_dir = server.options().jetstream.store_dir;
}
JetStream::~JetStream() = default;
void JetStream::start() {}
void JetStream::shutdown() {}
const JetStreamLimits& JetStream::limits() const { return impl_->limits; }
const std::string& JetStream::store_dir() const { return impl_->store_dir; }
JetStreamUsage JetStream::usage() const { return {}; }

}  // namespace nats::jetstream
