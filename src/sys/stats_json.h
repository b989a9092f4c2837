#pragma once
// JSON pieces shared by the $SYS statistics messages (STATSZ, CONNS/DISCONNECT events).
#include <cstdint>

#include <nlohmann/json.hpp>

namespace nats {

// {"msgs": n, "bytes": n}: the shape of every sent/received counter in $SYS messages.
inline nlohmann::ordered_json msg_bytes(uint64_t msgs, uint64_t bytes) { return {{"msgs", msgs}, {"bytes", bytes}}; }

}  // namespace nats
