// The account resolver of operator mode: where account JWTs come from. MEMORY holds the
// resolver_preload JWTs only; FULL (the reference's DirAccResolver on one server) keeps every
// JWT as <dir>/<account public key>.jwt, loads the directory at start-up, and stores the
// updates pushed over $SYS.REQ.CLAIMS.UPDATE (handled in src/sys/claims_requests.cpp).
#pragma once

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
  // Stores `token` for `key` unless the stored one was issued later (as the reference's
  // saveIfNewer). Returns the error text, empty on success.
  std::string save(const std::string& key, const std::string& token, int64_t issued_at);
  // Removes the JWT (the file too); false if there was none.
  bool remove(const std::string& key);
  std::vector<std::string> keys() const;

 private:
  std::string path_of(const std::string& key) const;

  std::string type_;
  std::string dir_;
  bool allow_delete_ = false;
  int64_t limit_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, std::string> jwts_;
  std::map<std::string, int64_t> issued_;
};

}  // namespace nats
