// Encoders for the control line that precedes a delivered message: MSG/HMSG to a client,
// RMSG/HMSG to a route or gateway. Built on the stack (heap only for very long subjects),
// since this runs once per delivered message.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "util/bytes.h"

namespace nats::proto {

class MsgLine {
 public:
  // "MSG <subject> <sid> [reply] <size>" or, with headers,
  // "HMSG <subject> <sid> [reply] <hdr_size> <total_size>".
  static void client(MsgLine& out, std::string_view subject, std::string_view sid, std::string_view reply,
                     bool with_headers, size_t hdr_size, size_t total_size) {
    char* p = out.reserve(subject.size() + sid.size() + reply.size() + 64);
    p = put(p, with_headers ? "HMSG " : "MSG ");
    p = put(p, subject);
    *p++ = ' ';
    p = put(p, sid);
    *p++ = ' ';
    if (!reply.empty()) {
      p = put(p, reply);
      *p++ = ' ';
    }
    out.finish(p, with_headers, hdr_size, total_size);
  }

  // "RMSG <account> <subject> [+ reply queues | | queues | reply] <size>" or HMSG with the
  // header size before the total (the route/gateway forms of the reference's route.go).
  static void routed(MsgLine& out, std::string_view account, std::string_view subject, std::string_view reply,
                     std::string_view queues, bool with_headers, size_t hdr_size, size_t total_size) {
    char* p = out.reserve(account.size() + subject.size() + reply.size() + queues.size() + 64);
    p = put(p, with_headers ? "HMSG " : "RMSG ");
    p = put(p, account);
    *p++ = ' ';
    p = put_routed_tail(p, subject, reply, queues);
    out.finish(p, with_headers, hdr_size, total_size);
  }

  // The leaf-node form: "LMSG <subject> [+ reply queues | | queues | reply] <size>" or HMSG;
  // no account (a leaf connection is bound to one).
  static void leaf(MsgLine& out, std::string_view subject, std::string_view reply, std::string_view queues,
                   bool with_headers, size_t hdr_size, size_t total_size) {
    char* p = out.reserve(subject.size() + reply.size() + queues.size() + 64);
    p = put(p, with_headers ? "HMSG " : "LMSG ");
    p = put_routed_tail(p, subject, reply, queues);
    out.finish(p, with_headers, hdr_size, total_size);
  }

  std::string_view view() const { return {data_, len_}; }

 private:
  static char* put(char* p, std::string_view s) {
    return util::copy_bytes(p, s);
  }
  static char* put_uint(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }
  static char* put_routed_tail(char* p, std::string_view subject, std::string_view reply, std::string_view queues) {
    p = put(p, subject);
    *p++ = ' ';
    if (!queues.empty()) {
      p = put(p, reply.empty() ? std::string_view("| ") : std::string_view("+ "));
      if (!reply.empty()) {
        p = put(p, reply);
        *p++ = ' ';
      }
      p = put(p, queues);
      *p++ = ' ';
    } else if (!reply.empty()) {
      p = put(p, reply);
      *p++ = ' ';
    }
    return p;
  }

  char* reserve(size_t need) {
    data_ = stack_;
    if (need > sizeof stack_) {
      heap_.resize(need);
      data_ = heap_.data();
    }
    return data_;
  }
  void finish(char* p, bool with_headers, size_t hdr_size, size_t total_size) {
    if (with_headers) {
      p = put_uint(p, hdr_size);
      *p++ = ' ';
    }
    p = put_uint(p, total_size);
    *p++ = '\r';
    *p++ = '\n';
    len_ = static_cast<size_t>(p - data_);
  }

  char stack_[512];
  std::string heap_;
  char* data_ = stack_;
  size_t len_ = 0;
};

}  // namespace nats::proto
