// Looking up an account JWT this server lacks, for whoever needs that account: a client's or
// a leaf's CONNECT (the user JWT names it), a leaf remote bound to it, a route's interest in
// it. As the reference's fetch on a resolver miss: with the URL resolver the JWT is fetched
// over HTTP (url_account_lookup.cpp); with a FULL or CACHE resolver it is asked of the other
// servers ($SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP). MEMORY has nothing to look up.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace nats {

class Server;
namespace net {
class EventLoop;
}

// The account a user JWT binds to (its issuer_account, else its issuer); empty when the
// token is not a user JWT. Only to know what to look up: authentication checks signatures.
std::string user_jwt_account(const std::string& user_jwt);

// Starts looking up `key` when the server neither has the account nor its JWT and its
// resolver can look one up, or (URL resolver) has it with a JWT that has expired; `done` then runs once the lookup is over, answered or not, on
// another thread (callers post back to their loop). False, and `done` never runs, when there
// is nothing to wait for.
bool start_missing_account_lookup(Server& server, const std::string& key, std::function<void()> done);

// What a connection holds back while the account it needs is looked up: the operation that
// waits for it (a CONNECT; nothing for a leaf remote's own account) and the input read after
// it, handed back in order once the lookup is over. The owner stops reading meanwhile
// (Connection::hold_reading), as the reference's blocked read loop. One lookup per owner:
// once over, done() stays true and the owner decides without looking up again. Loop thread
// only.
class AccountLookupHold {
 public:
  // Starts the lookup of `key` (start_missing_account_lookup); once over, `resume` runs on
  // `loop`. True: now pending, `op` kept. False: nothing to wait for, nothing kept.
  bool start(Server& server, const std::string& key, net::EventLoop& loop, std::function<void()> resume,
             std::string op = {});
  bool pending() const { return pending_; }
  bool done() const { return done_; }
  // Keeps input that came while pending. False when more than one read could bring has
  // piled up (a guard only): the owner closes the connection.
  bool keep(const char* data, size_t len);
  struct Held {
    std::string op, input;
  };
  // The lookup is over: no longer pending, done from now on; what was kept moves out.
  Held finish();

 private:
  bool pending_ = false;
  bool done_ = false;
  std::string op_, input_;
};

// `fn` called on `conn` if it still exists then: what a lookup resumes its owner with.
template <class Conn>
std::function<void()> call_if_alive(const std::shared_ptr<Conn>& conn, void (Conn::*fn)()) {
  std::weak_ptr<Conn> weak = conn;
  return [weak, fn] {
    if (auto c = weak.lock()) ((*c).*fn)();
  };
}

}  // namespace nats
