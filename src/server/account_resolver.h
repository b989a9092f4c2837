// The account resolver of operator mode: where account JWTs come from. MEMORY holds the
// resolver_preload JWTs only; FULL (the reference's DirAccResolver) keeps every JWT as
// <dir>/<account public key>.jwt, loads the directory at start-up, and stores the updates
// pushed over $SYS.REQ.CLAIMS.UPDATE (handled in src/sys/claims_requests.cpp). Servers of a
// cluster compare stores by hash and exchange "packs" of JWTs ($SYS.REQ.CLAIMS.PACK); the
// hash is the reference's: the XOR of the SHA-256 of every stored JWT, so that ours and
// 2.9.10 servers agree on it in a mixed cluster. CACHE (the reference's CacheDirAccResolver)
// keeps in the same kind of directory only the JWTs looked up from other servers: at most
// `limit` (the least recently used is dropped for a new one), each removed `ttl` after its
// last use (or when it expires, if ttl is 0); a delete removes the file. URL (the reference's
// URLAccResolver) fetches each account JWT over HTTP when an account is first needed and keeps
// it in memory (see url_account_fetcher.h). A config reload may switch between MEMORY and URL
// (retarget()); the directory kinds never change at run time.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "server/url_account_fetcher.h"

namespace nats {

class AccountResolverStore {
 public:
  explicit AccountResolverStore(const Options& opts);

  bool is_full() const { return type_ == "FULL"; }
  bool is_cache() const { return type_ == "CACHE"; }
  // FULL and CACHE: JWTs in a directory, missing ones looked up from the other servers.
  bool is_dir() const { return is_full() || is_cache(); }
  bool is_url() const { return url_fetcher() != nullptr; }
  // URL: the HTTP client that fetches missing account JWTs (nullptr for the other types).
  UrlAccountFetcher* url_fetcher() const { return url_.load(std::memory_order_acquire); }
  // Config reload from MEMORY or URL to MEMORY or URL (next.resolver), as the reference's
  // configureResolver installing a new resolver: the JWTs held so far are dropped, MEMORY
  // holds next's preloads, URL fetches from next's URL with `tls`. A fetcher replaced stays
  // alive (idle) until the store goes, as lookups under way may still hold it.
  void retarget(const Options& next, std::shared_ptr<const net::TlsContext> tls);
  // Server shutdown: every fetcher made stops (see UrlAccountFetcher::stop).
  void stop_fetchers();
  // A CACHE store deletes too (the reference's HardDelete); FULL only with allow_delete.
  bool allow_delete() const { return allow_delete_ || is_cache(); }
  // The stored JWT; a CACHE entry counts as used (LRU, ttl) and is dropped once expired.
  std::optional<std::string> fetch(const std::string& key) const;
  // CACHE: removes the expired entries (their files too); returns how many.
  size_t expire() const;
  // Stores `token` for `key` unless the stored one was issued later or is the same JWT (as
  // the reference's saveIfNewer). Returns the error text, empty on success; `changed` (if
  // given) says whether the stored JWT changed.
  std::string save(const std::string& key, const std::string& token, int64_t issued_at, bool* changed = nullptr);
  // Removes the JWT (the file too); false if there was none.
  bool remove(const std::string& key);
  std::vector<std::string> keys() const;

  // The store's hash (32 bytes, all zero when empty), as the reference's DirJWTStore.Hash.
  std::string hash() const;
  // "<account>|<jwt>" for every stored JWT that has not expired: the lines of a pack.
  std::vector<std::string> pack_lines() const;
  // Stores the newer JWTs of a pack (lines "<account>|<jwt>"); the accounts whose JWT changed
  // are added to `changed`. Returns the error text (the first bad line stops the merge, as
  // the reference's Merge), empty on success.
  std::string merge(const std::string& pack, std::vector<std::string>& changed);

 private:
  std::string path_of(const std::string& key) const;
  // XORs the SHA-256 of `token` into hash_ (adds or removes it).
  void toggle_hash(const std::string& token) const;
  // CACHE bookkeeping, under mu_: an entry was stored or used; an entry goes (file too).
  void touch_locked(const std::string& key, bool stored) const;
  void drop_locked(const std::string& key) const;
  bool expired_locked(const std::string& key, int64_t now_ns) const;

  std::string type_;  // as configured at start; tells FULL and CACHE (is_url() follows url_)
  std::string dir_;
  bool allow_delete_ = false;
  int64_t limit_ = 0;
  std::chrono::nanoseconds ttl_{0};
  mutable std::mutex mu_;
  // Mutable: a CACHE fetch refreshes an entry's place and lifetime, or drops it.
  mutable std::map<std::string, std::string> jwts_;
  mutable std::map<std::string, int64_t> issued_;
  mutable std::array<uint8_t, 32> hash_{};
  mutable std::list<std::string> lru_;  // CACHE: least recently used first
  mutable std::map<std::string, std::list<std::string>::iterator> lru_pos_;
  mutable std::map<std::string, int64_t> expires_ns_;  // CACHE: unix ns; absent: never
  std::atomic<UrlAccountFetcher*> url_{nullptr};  // the current one of fetchers_, or none
  std::vector<std::unique_ptr<UrlAccountFetcher>> fetchers_;  // written by the ctor and retarget only
};

}  // namespace nats
