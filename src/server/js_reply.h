#pragma once
// A JetStream push delivery is routed by its deliver subject but shown with the message's own
// subject. Where it must travel as a plain message (to another server, or through a stream
// import into another account) the shown subject rides on the ack reply, as the reference
// does: "$JS.ACK.<stream>.<consumer>...@<subject>". The receiving side routes by the
// subject and shows the part after '@' (only for messages not published by a client).
#include <string>
#include <string_view>

namespace nats {

inline constexpr std::string_view kJsAckPrefix = "$JS.ACK.";

inline std::string encode_js_reply(std::string_view ack_reply, std::string_view shown_subject) {
  std::string r(ack_reply);
  r += '@';
  r += shown_subject;
  return r;
}

// True when reply carries a shown subject; ack_reply and shown_subject are views into it.
inline bool split_js_reply(std::string_view reply, std::string_view& ack_reply, std::string_view& shown_subject) {
  if (reply.size() <= kJsAckPrefix.size() || reply.substr(0, kJsAckPrefix.size()) != kJsAckPrefix) return false;
  size_t at = reply.rfind('@');
  if (at == std::string_view::npos || at + 1 >= reply.size()) return false;
  ack_reply = reply.substr(0, at);
  shown_subject = reply.substr(at + 1);
  return true;
}

}  // namespace nats
