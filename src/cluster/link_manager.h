// What the managers of every server-to-server link kind (routes, gateways, leaf nodes)
// share: the list of their connections, registered or not (so that a shutdown reaches the
// ones still in their handshake), the listener, the thread that dials remotes on the one
// redial schedule (redialer.h), and an orderly stop. Each manager derives from it and adds
// its remotes (what a dial key names, its URLs, the connection a dial makes, the log
// wording), its registry of registered links and its interest bookkeeping.
// Header only: a new library file would reshuffle the unity batches.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster/cluster_util.h"
#include "cluster/redialer.h"
#include "config/options.h"
#include "net/tls.h"
#include "net/event_loop.h"
#include "server/connection.h"

namespace nats {
class Server;
}

namespace nats::cluster {

// Key: what names a remote the kind dials (a route URL, a gateway name, a leaf remote's index).
template <class Conn, class Key>
class LinkManagerBase {
 public:
  // The accepting side's TLS (null without a `tls` block): the one last (re)loaded; a
  // connection's handshake starts from it, connections already made keep theirs.
  const net::TlsContext* tls_context() const { return tls_cur_.load(std::memory_order_acquire); }
  // A context for the kind's `tls` block (null when off); throws when a file does not load.
  // mutual (routes and gateways): the peer's certificate is required and verified whatever
  // `verify` says, against the ca_file or, without one, the system's roots, both ways (2.9.10's
  // getTLSConfig forces RequireAndVerifyClientCert and mirrors the client CAs to the root CAs,
  // nil meaning the system pool). Leaf nodes and websocket are not forced, as 2.9.10.
  static std::unique_ptr<net::TlsContext> make_tls(const TlsOptions& tls, bool mutual) {
    if (!tls.enabled) return nullptr;
    auto ctx = std::make_unique<net::TlsContext>(tls.cert_file, tls.key_file, tls.ca_file, mutual || tls.verify);
    if (mutual) ctx->verify_with_system_roots();  // no-op with a ca_file
    ctx->set_pinned_certs(tls.pinned_certs);  // checked on accepted and dialled links alike
    ctx->set_insecure_dial(tls.insecure);     // routes and gateways we dial
    return ctx;
  }
  // Config reload: new connections use `ctx` (null: TLS off). Earlier contexts are kept
  // until the manager goes, since connections made with them may still refer to them.
  void install_tls(std::unique_ptr<net::TlsContext> ctx) {
    std::lock_guard lk(tls_mu_);
    tls_cur_.store(ctx.get(), std::memory_order_release);
    if (ctx) tls_last_.store(ctx.get(), std::memory_order_release);
    if (ctx) tls_all_.push_back(std::move(ctx));
  }
  // The last context installed that was not null (null if TLS was never on): what 2.9.10's
  // configured gateway remotes dial with, also once a reload turned the block's TLS off
  // (its updateRemotesTLSConfig only ever sets a remote's TLS config, never clears it).
  const net::TlsContext* last_tls_context() const { return tls_last_.load(std::memory_order_acquire); }

 protected:
  // tls: the kind's block (cluster, gateway or leafnodes { tls }); mutual: as make_tls.
  LinkManagerBase(Server& s, const TlsOptions& tls, bool mutual) : server_(s) { install_tls(make_tls(tls, mutual)); }
  virtual ~LinkManagerBase() = default;
  using Dial = typename Redialer<Key>::Dial;

  // The kind's part of dialling, called on the dialing thread with mu_ held.
  // How many URLs `key` has now (0: nothing to dial yet), and the i-th.
  virtual size_t dial_url_count_locked(const Key& key) const = 0;
  virtual std::string dial_url_locked(const Key& key, size_t i) const = 0;
  // False: `key` is no longer to be dialled (a removed route, a route to ourselves); forgotten.
  virtual bool dial_wanted_locked(const Key&) const { return true; }
  // The socket of a successful dial: the kind makes its connection and adopt_locked()s it.
  virtual void dialled_locked(const Key& key, const std::string& url, int fd) = 0;
  // An implicit remote that ran out of retries.
  virtual void given_up_locked(const Key&) {}
  // A dial of `key` failed (mu_ not held, on the dialing thread).
  virtual void dial_failed(const Key&) {}
  // The kind's log lines (mu_ not held): before a dial, and after a failed one.
  virtual void log_dial(const Dial& d, const PeerUrl& u, bool failed) const = 0;

  // Starts the dialing thread (after the first schedule_locked() calls, or before: it waits).
  void start_dialing() { solicitor_ = std::thread([this] { solicit_loop(); }); }
  // (Re)starts dialling `key` after `delay` (redialer.h); mu_ held.
  void schedule_locked(const Key& key, const RedialPolicy& p, std::chrono::nanoseconds delay, bool first_connect) {
    if (stopping_) return;
    redial_.schedule(key, p, delay, first_connect);
    cv_.notify_all();
  }

  // A new connection (dialled or accepted) joins the list and starts on `loop`; false when
  // the manager is stopping (then `c`, once released, closes its socket).
  bool adopt(net::EventLoop& loop, std::shared_ptr<Conn> c) {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return false;
      all_conns_.push_back(c);
    }
    loop.post([c] { c->start(); });
    return true;
  }
  // The same with mu_ held by the caller (a dialing loop that checked stopping_ itself).
  void adopt_locked(net::EventLoop& loop, std::shared_ptr<Conn> c) {
    all_conns_.push_back(c);
    loop.post([c] { c->start(); });
  }
  // A closed connection leaves the list; mu_ held.
  void forget_locked(const Conn* c) {
    std::erase_if(all_conns_, [c](const auto& x) { return x.get() == c; });
  }

  // Stops dialing (the solicitor thread is woken and joined), closes every connection and
  // the listener. Idempotent.
  void stop_links() {
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (solicitor_.joinable()) solicitor_.join();
    std::vector<std::shared_ptr<Conn>> conns;
    {
      std::lock_guard lk(mu_);
      conns = all_conns_;
    }
    for (auto& c : conns) c->close(CloseReason::ServerShutdown);
    listener_.stop();
  }

  // A TCP connection to a remote's URL with the links' dial timeout; -1 on failure.
  static int dial(const PeerUrl& u) { return u.ok ? connect_with_timeout(u.host, u.port, kLinkDialTimeout) : -1; }

  // The dialing thread: one due dial at a time, the socket connected without the lock.
  void solicit_loop() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      auto wake = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      auto d = redial_.take_due(std::chrono::steady_clock::now(), wake,
                                [this](const Key& k) { return dial_url_count_locked(k); });
      if (!d) {
        cv_.wait_until(lk, wake);
        continue;
      }
      if (!dial_wanted_locked(d->key)) {
        redial_.forget(d->key);
        continue;
      }
      const std::string url = dial_url_locked(d->key, d->url_index);
      lk.unlock();
      PeerUrl u = parse_peer_url(url);
      log_dial(*d, u, false);
      int fd = dial(u);
      if (fd < 0) {
        log_dial(*d, u, true);
        dial_failed(d->key);
      }
      lk.lock();
      if (stopping_) {
        if (fd >= 0) ::close(fd);
        break;
      }
      if (fd < 0) {
        if (!redial_.failed(d->key, dial_url_count_locked(d->key))) given_up_locked(d->key);
      } else if (!dial_wanted_locked(d->key)) {
        ::close(fd);
        redial_.forget(d->key);
      } else {
        dialled_locked(d->key, url, fd);
      }
    }
  }

  Server& server_;
  std::mutex tls_mu_;
  std::vector<std::unique_ptr<net::TlsContext>> tls_all_;  // every one loaded (guarded by tls_mu_)
  std::atomic<const net::TlsContext*> tls_cur_{nullptr};
  std::atomic<const net::TlsContext*> tls_last_{nullptr};
  LinkListener listener_;
  // Guards stopping_ and all_conns_, and whatever the kind keeps with them (its remotes,
  // its registry): one lock, so that a dial and a shutdown cannot cross.
  mutable std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Conn>> all_conns_;  // registered or not
  std::condition_variable cv_;                    // wakes the solicitor (stop, a new schedule)
  Redialer<Key> redial_;                          // what to dial when
  std::thread solicitor_;
};

}  // namespace nats::cluster
