// A gateway message for an account this server does not have (an inbound connection; the
// remote cluster sends optimistically for accounts we have not switched to interest-only).
// As 2.9.10's processInboundGatewayMsg: the account is looked up (LookupAccount fetches it on
// a resolver miss in operator mode: URL, FULL or CACHE resolver); once registered it is
// switched to interest-only mode on every inbound gateway (GatewayManager::account_registered)
// and the message is delivered. An account that stays unknown is answered with `A- <account>`
// once, after which the remote sends no more of its messages; registering it later switches
// it to interest-only, which supersedes the A-.
// While the lookup runs the connection stops reading, keeps the message and what followed it,
// and handles them in order afterwards (as a leaf's CONNECT waiting for its account).
#include "cluster/gateway.h"
#include "cluster/gateway_manager.h"
#include "server/account.h"
#include "server/account_lookup.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::cluster {

std::shared_ptr<Account> GatewayConnection::account_for_message(std::string_view account) {
  std::string name(account);
  auto acc = server_.lookup_account(name);
  // An operator mode account whose JWT the resolver holds (FULL, MEMORY, or fetched before)
  // but that nothing here used yet: registered now, as the reference's LookupAccount.
  if (!acc && server_.account_resolver() && server_.jwt_account_claims(name)) acc = server_.lookup_account(name);
  return acc;
}

bool GatewayConnection::unknown_account_message(std::string_view account, std::string_view subject,
                                                std::string_view reply, proto::QueueNames queues,
                                                std::string_view headers, std::string_view payload) {
  std::string name(account);
  {
    // Already answered A-: what the remote sent before it heard so is dropped, not looked up again.
    std::lock_guard lk(mu_);
    if (no_interest_accounts_.count(name)) return true;
  }
  // The lookup's answer is posted to this loop: handled after this returns.
  auto self = std::static_pointer_cast<GatewayConnection>(shared_from_this());
  if (!lookup_.start(server_, name, loop_, call_if_alive(self, &GatewayConnection::resume_after_lookup))) {
    log::debug("{}:{} - gid:{} - Unknown account \"{}\" for gateway message on subject: \"{}\"", peer_ip_,
               peer_port_, cid_, name, subject);
    send_account_no_interest(name);
    return true;
  }
  log::debug("{}:{} - gid:{} - waiting for account {}", peer_ip_, peer_port_, cid_, name);
  held_msg_ = HeldMessage{name,
                          std::string(subject),
                          std::string(reply),
                          std::string(queues.raw()),
                          std::string(headers),
                          std::string(payload)};
  hold_reading();
  return false;  // stop the parse: the rest of this read waits in lookup_
}

void GatewayConnection::resume_after_lookup() {
  if (!lookup_.pending() || closing()) return;
  std::string held = lookup_.finish().input;
  HeldMessage m = std::move(held_msg_);
  held_msg_ = HeldMessage{};
  if (account_for_message(m.account)) {
    proto::QueueNames queues(m.queues);
    inbound_message(m.account, m.subject, m.reply, queues, m.headers, m.payload);
  } else {
    log::debug("{}:{} - gid:{} - Unknown account \"{}\" for gateway message on subject: \"{}\"", peer_ip_,
               peer_port_, cid_, m.account, m.subject);
    send_account_no_interest(m.account);
  }
  if (!closing() && !held.empty()) on_data(held.data(), held.size());
  Connection::flush_touched();
  if (!lookup_.pending()) release_reading();
}

bool GatewayConnection::hold_input_for_lookup(const char* data, size_t len) {
  if (!lookup_.pending()) return false;
  if (!lookup_.keep(data, len)) close(CloseReason::ProtocolViolation);
  return true;
}

void GatewayConnection::send_account_no_interest(const std::string& account) {
  {
    std::lock_guard lk(mu_);
    if (!no_interest_accounts_.insert(account).second) return;
  }
  enqueue("A- " + account + "\r\n");
  touch();
}

void GatewayConnection::clear_account_no_interest(const std::string& account) {
  std::lock_guard lk(mu_);
  no_interest_accounts_.erase(account);
}

}  // namespace nats::cluster
