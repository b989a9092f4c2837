#include "jetstream/store/message_store.h"

#include <chrono>

#include "subject/subject.h"

namespace nats::jetstream {

const char* store_err_text(StoreErr e) {
  switch (e) {
    case StoreErr::ok: return "ok";
    case StoreErr::closed: return "store is closed";
    case StoreErr::not_found: return "no message found";
    case StoreErr::eof: return "stream store EOF";
    case StoreErr::max_msgs: return "maximum messages exceeded";
    case StoreErr::max_bytes: return "maximum bytes exceeded";
    case StoreErr::max_msgs_per_subject: return "maximum messages per subject exceeded";
    // The stream-level text the client sees (the store's own text has a typo).
    case StoreErr::msg_too_large: return "message size exceeds maximum allowed";
    case StoreErr::io: return "i/o error";
  }
  return "unknown";
}

int64_t system_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool store_filter_matches(std::string_view filter, std::string_view subject) {
  if (filter.empty() || filter == ">") return true;
  if (!subject_has_wildcard(filter)) return filter == subject;
  return subject_matches(filter, subject);
}

}  // namespace nats::jetstream
