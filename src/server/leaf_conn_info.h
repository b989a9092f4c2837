// What /connz shows of a leaf-node connection. 2.9.10 (saveClosedClient) keeps closed CLIENT
// and LEAF connections in one ring, and lists open leafs only when /connz is filtered by
// account (its account's client list holds them). A closed leaf's entry is taken as it
// closes (its remote interest is dropped right after), so it is a copy, not the live object.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "server/connection.h"

namespace nats {

struct LeafConnInfo {
  uint64_t cid = 0;
  std::string ip;
  int port = 0;
  std::chrono::system_clock::time_point start, last_activity;
  bool closed = false;
  std::chrono::system_clock::time_point stop;  // when closed
  CloseReason reason = CloseReason::ClientClosed;
  int64_t rtt_ns = 0;
  size_t pending = 0;
  uint64_t in_msgs = 0, out_msgs = 0, in_bytes = 0, out_bytes = 0;
  size_t subs = 0;
  // From the leaf's CONNECT (accepting side only; empty for the leafs we dialled, as 2.9.10).
  std::string name, version, user;
  std::string account;  // the bound account, empty when never bound
  std::string tls_version, tls_cipher_suite;
};

}  // namespace nats
