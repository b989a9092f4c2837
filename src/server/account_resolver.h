// The account resolver of operator mode: where account JWTs come from. MEMORY holds the
// resolver_preload JWTs only; FULL (the reference's DirAccResolver) keeps every JWT as
// <dir>/<account public key>.jwt, loads the directory at start-up, and stores the updates
// pushed over $SYS.REQ.CLAIMS.UPDATE (handled in src/sys/claims_requests.cpp). Servers of a
// cluster compare stores by hash and exchange "packs" of JWTs ($SYS.REQ.CLAIMS.PACK); the
// hash is the reference's: the XOR of the SHA-256 of every stored JWT, so that ours and
// 2.9.10 servers agree on it in a mixed cluster.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"

namespace nats {

class AccountResolverStore {
 public:
  explicit AccountResolverStore(const Options& opts);

  bool is_full() const { return type_ == "FULL"; }
  bool allow_delete() const { return allow_delete_; }
  std::optional<std::string> fetch(const std::string& key) const;
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
  void toggle_hash(const std::string& token);

  std::string type_;
  std::string dir_;
  bool allow_delete_ = false;
  int64_t limit_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, std::string> jwts_;
  std::map<std::string, int64_t> issued_;
  std::array<uint8_t, 32> hash_{};
};

}  // namespace nats
