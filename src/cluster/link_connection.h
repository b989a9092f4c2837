// What every server-to-server link has in common (routes, gateways and leaf nodes): the
// parser limits of a link (its messages are not bounded by max_payload, as the reference),
// the large outbound allowance before a link counts as a slow consumer, what a protocol
// error does (a log line, `-ERR` when the error has a text, close), PING/PONG and closing
// with an error, RMSG/HMSG lines, the Subscription that stands for a remote's interest, and
// the timer that closes a peer that dialled us and never sent its CONNECT.
// Each kind derives from it and adds its handshake and interest bookkeeping.
// Header only: the members are small, and a new library file would reshuffle the unity batches.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "proto/msg_line.h"
#include "proto/parser.h"
#include "server/conn_tag.h"
#include "server/connection.h"
#include "config/options.h"
#include "subject/subscription.h"
#include "util/log.h"

namespace nats::cluster {

class LinkConnection : public Connection, public proto::ParserHandlerBase {
 public:
  // The same on every link: a PING is answered at once; a PONG feeds the RTT and clears
  // the outstanding pings.
  bool on_ping() {
    send_now("PONG\r\n");
    return true;
  }
  bool on_pong() {
    pong_received();
    return true;
  }

 protected:
  // id_tag: the id's name in log lines ("rid", "gid", "lid"); kind_name: the word before
  // "Error" in the reference's log line for a parse error ("Route", "Gateway", "Leafnode").
  LinkConnection(Server& server, net::EventLoop& loop, int fd, uint64_t id, ConnKind kind, const char* id_tag,
                 const char* kind_name)
      : Connection(server, loop, fd, id, kind), id_tag_(id_tag), kind_name_(kind_name) {
    // A link carries many clients' traffic: a large allowance before it is a slow consumer.
    max_pending_ = std::max<int64_t>(max_pending_, 256LL * 1024 * 1024);
  }

  static proto::ParserLimits parser_limits(const Options& o) {
    proto::ParserLimits l;
    l.max_control_line = o.max_control_line;
    l.max_payload = -1;
    return l;
  }

  // After parsing a read: a protocol error is logged, answered with `-ERR` when it has a
  // text, and closes the link. Whether to go on reading (no error, not stopped, not closing).
  bool parsed(const proto::ParseResult& r) {
    if (r.error()) {
      log::error("{} - {} Error '{}'", conn_tag(*this), kind_name_, r.detail);
      if (!r.err_text.empty()) send_now("-ERR '" + std::string(r.err_text) + "'\r\n");
      close(r.kind == proto::ParseErrorKind::AuthViolation ? CloseReason::AuthenticationViolation
                                                           : CloseReason::ParseError);
      return false;
    }
    return !r.stopped() && !closing();
  }

  // RMSG/HMSG with the account, as routes and gateways carry messages (any thread).
  // queues: space-separated queue names, or empty.
  bool send_routed(std::string_view account, std::string_view subject, std::string_view reply,
                   std::string_view queues, std::string_view headers, std::string_view payload) {
    proto::MsgLine line;
    proto::MsgLine::routed(line, account, subject, reply, queues, !headers.empty(), headers.size(),
                           headers.size() + payload.size());
    return enqueue_message(line.view(), headers, payload);
  }

  // The Subscription that stands for a remote's interest (RS+ or LS+) in an account's
  // SubList: owned by this link (the match delivers through it), sid `key`; a queue member
  // weighs at least 1, as the reference counts a weight of 0.
  SubscriptionPtr remote_subscription(std::string_view account, std::string_view subject, std::string_view queue,
                                      const std::string& key, int32_t weight) {
    auto sub = std::make_shared<Subscription>();
    sub->subject = subject;
    sub->queue = queue;
    sub->sid = key;
    sub->conn = shared_from_this();
    sub->qweight = queue.empty() ? 1 : std::max<int32_t>(weight, 1);
    sub->account = account;
    return sub;
  }

  void send_err_and_close(std::string_view text, CloseReason reason) {
    send_now("-ERR '" + std::string(text) + "'\r\n");
    close(reason);
  }

  // The auth timer of 2.9.10's setAuthTimer: a peer that dialled us and has not sent its
  // CONNECT `after` from now gets `-ERR 'Authentication Timeout'` and is closed (with_err
  // false: closed without it, for a leaf we dialled whose hub never answered). Armed on the
  // loop thread; the kind cancels it as soon as the CONNECT is read (whether or not it then
  // passes: 2.9.10 stops the timer first thing in processConnect), and when it closes.
  void arm_auth_timer(std::chrono::nanoseconds after, bool with_err = true) {
    cancel_auth_timer();
    std::weak_ptr<Connection> weak = weak_from_this();
    auth_timer_ = loop_.add_timer(after, [weak, with_err] {
      auto c = weak.lock();
      if (!c) return;
      auto* l = static_cast<LinkConnection*>(c.get());
      l->auth_timer_ = 0;
      if (l->closing()) return;
      log::debug("{} - Authentication Timeout", conn_tag(*l));
      if (with_err) l->send_err_and_close("Authentication Timeout", CloseReason::AuthenticationTimeout);
      else l->close(CloseReason::AuthenticationTimeout);
    });
  }
  void cancel_auth_timer() {
    if (auth_timer_) loop_.cancel_timer(auth_timer_);
    auth_timer_ = 0;
  }

  const char* const id_tag_;
  const char* const kind_name_;

 private:
  net::TimerId auth_timer_ = 0;  // loop thread only
};

}  // namespace nats::cluster
