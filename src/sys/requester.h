// The client whose publish is being routed on this thread. Internal handlers run inline in
// the publisher's process_message, so `$SYS.REQ.USER.INFO` can answer about the requester
// (the reference takes it from the publishing client too). Set only around `$SYS.` publishes.
#pragma once

#include <string_view>

namespace nats {
class ClientConnection;
}

namespace nats::sys {

const ClientConnection* current_requester();

class RequesterScope {
 public:
  RequesterScope(const ClientConnection* c, std::string_view subject);
  ~RequesterScope();
  RequesterScope(const RequesterScope&) = delete;
  RequesterScope& operator=(const RequesterScope&) = delete;

 private:
  bool set_ = false;
  const ClientConnection* prev_ = nullptr;
};

}  // namespace nats::sys
