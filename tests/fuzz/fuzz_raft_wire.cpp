// Fuzz target: the Raft wire format (`$NRG.*` messages from other servers, and the log
// store's entry records). Written against the decode entry points only, so new message
// kinds are covered as they are added. Decoding must reject anything malformed without
// crashing; whatever it accepts must survive a round trip: encode(decode(x)) decodes again
// and re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "raft/wire.h"

using namespace nats::raft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view buf(reinterpret_cast<const char*>(data), size);

  if (auto m = wire::decode(buf)) {
    const std::string once = wire::encode(*m);
    auto again = wire::decode(once);
    if (!again || wire::encode(*again) != once) std::abort();
  }

  // The same bytes as a run of persisted log entries.
  size_t pos = 0;
  Entry e;
  while (pos < buf.size()) {
    const size_t before = pos;
    if (!wire::get_entry(buf, pos, e)) break;
    if (pos <= before) std::abort();  // must make progress
    std::string out;
    wire::put_entry(out, e);
    size_t p2 = 0;
    Entry e2;
    if (!wire::get_entry(out, p2, e2) || p2 != out.size() || !(e2 == e)) std::abort();
  }
  return 0;
}
