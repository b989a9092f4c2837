#include "server/account_resolver.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/jwt_claims.h"
#include "util/log.h"

namespace nats {

namespace fs = std::filesystem;

namespace {
int64_t issued_at_of(const std::string& token) {
  auto d = jwt::decode(token);
  auto* ok = std::get_if<jwt::Decoded>(&d);
  return ok ? ok->issued_at : 0;
}
}  // namespace

AccountResolverStore::AccountResolverStore(const Options& opts)
    : type_(opts.resolver.type), dir_(opts.resolver.dir), allow_delete_(opts.resolver.allow_delete),
      limit_(opts.resolver.limit) {
  if (is_full()) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
      if (!e.is_regular_file() || e.path().extension() != ".jwt") continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string key = e.path().stem().string();
      jwts_[key] = ss.str();
      issued_[key] = issued_at_of(jwts_[key]);
    }
  }
  for (const auto& [key, token] : opts.resolver_preload) {
    // The reference stores the preloads in the directory too, keeping newer ones found there.
    if (auto err = save(key, token, issued_at_of(token)); !err.empty())
      log::error("Preloaded account [{}] not stored: {}", key, err);
  }
}

std::string AccountResolverStore::path_of(const std::string& key) const { return dir_ + "/" + key + ".jwt"; }

std::optional<std::string> AccountResolverStore::fetch(const std::string& key) const {
  std::lock_guard lk(mu_);
  auto it = jwts_.find(key);
  if (it == jwts_.end()) return std::nullopt;
  return it->second;
}

std::string AccountResolverStore::save(const std::string& key, const std::string& token, int64_t issued_at) {
  std::lock_guard lk(mu_);
  auto it = issued_.find(key);
  if (it != issued_.end() && it->second > issued_at) return "";
  if (it == issued_.end() && limit_ > 0 && static_cast<int64_t>(jwts_.size()) >= limit_) return "jwt store is full";
  if (is_full()) {
    // Written to a temporary file and renamed, so a crash never leaves half a JWT.
    std::string tmp = path_of(key) + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << token;
      if (!out) return "could not write " + tmp;
    }
    std::error_code ec;
    fs::rename(tmp, path_of(key), ec);
    if (ec) return ec.message();
  }
  jwts_[key] = token;
  issued_[key] = issued_at;
  return "";
}

bool AccountResolverStore::remove(const std::string& key) {
  std::lock_guard lk(mu_);
  if (!jwts_.erase(key)) return false;
  issued_.erase(key);
  if (is_full()) {
    // As the reference (RenameDeleted): the file stays, renamed, for an operator to inspect.
    std::error_code ec;
    fs::rename(path_of(key), path_of(key) + ".deleted", ec);
  }
  return true;
}

std::vector<std::string> AccountResolverStore::keys() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [k, _] : jwts_) out.push_back(k);
  return out;
}

}  // namespace nats
