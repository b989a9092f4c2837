#include "server/account_resolver.h"

#include "net/tls.h"

#include <openssl/sha.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/jwt_claims.h"
#include "util/log.h"
#include "util/nkey.h"

namespace nats {

namespace fs = std::filesystem;

namespace {
int64_t issued_at_of(const std::string& token) {
  auto d = jwt::decode(token);
  auto* ok = std::get_if<jwt::Decoded>(&d);
  return ok ? ok->issued_at : 0;
}
int64_t expires_of(const std::string& token) {
  auto d = jwt::decode(token);
  auto* ok = std::get_if<jwt::Decoded>(&d);
  return ok ? ok->expires : 0;
}
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

AccountResolverStore::AccountResolverStore(const Options& opts)
    : type_(opts.resolver.type), dir_(opts.resolver.dir), allow_delete_(opts.resolver.allow_delete),
      limit_(opts.resolver.limit), ttl_(opts.resolver.ttl) {
  if (type_ == "URL") {
    fetchers_.push_back(std::make_unique<UrlAccountFetcher>(
        opts.resolver.url, std::chrono::duration_cast<std::chrono::milliseconds>(opts.resolver.fetch_timeout),
        url_resolver_tls(opts)));
    url_.store(fetchers_.back().get(), std::memory_order_release);
  }
  if (is_dir()) {
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
      toggle_hash(jwts_[key]);
      touch_locked(key, true);
    }
  }
  for (const auto& [key, token] : opts.resolver_preload) {
    // The reference stores the preloads in the directory too, keeping newer ones found there.
    if (auto err = save(key, token, issued_at_of(token)); !err.empty())
      log::error("Preloaded account [{}] not stored: {}", key, err);
  }
}

void AccountResolverStore::retarget(const Options& next, std::shared_ptr<const net::TlsContext> tls) {
  UrlAccountFetcher* fetcher = nullptr;
  if (next.resolver.type == "URL") {
    fetchers_.push_back(std::make_unique<UrlAccountFetcher>(
        next.resolver.url, std::chrono::duration_cast<std::chrono::milliseconds>(next.resolver.fetch_timeout),
        std::move(tls)));
    fetcher = fetchers_.back().get();
  }
  {
    // One step, so that a lookup meanwhile sees the old JWTs or the new ones.
    std::lock_guard lk(mu_);
    jwts_.clear();
    issued_.clear();
    hash_.fill(0);
    if (next.resolver.type == "MEMORY")
      for (const auto& [key, token] : next.resolver_preload) {
        jwts_[key] = token;
        issued_[key] = issued_at_of(token);
        toggle_hash(token);
      }
  }
  url_.store(fetcher, std::memory_order_release);
}

void AccountResolverStore::stop_fetchers() {
  for (auto& f : fetchers_) f->stop();
}

std::string AccountResolverStore::path_of(const std::string& key) const { return dir_ + "/" + key + ".jwt"; }

std::optional<std::string> AccountResolverStore::fetch(const std::string& key) const {
  std::lock_guard lk(mu_);
  auto it = jwts_.find(key);
  if (it == jwts_.end()) return std::nullopt;
  if (is_cache()) {
    if (expired_locked(key, now_ns())) {
      drop_locked(key);
      return std::nullopt;
    }
    touch_locked(key, false);
  }
  return it->second;
}

void AccountResolverStore::touch_locked(const std::string& key, bool stored) const {
  if (is_full()) {
    // FULL keeps no LRU and no ttl, but a JWT whose own expiry passed is removed (file too)
    // by the expiry tick, as the reference's expiration tracker with ttl 0.
    if (!stored) return;
    int64_t exp = expires_of(jwts_[key]);
    if (exp > 0) expires_ns_[key] = exp * 1'000'000'000LL;
    else expires_ns_.erase(key);
    return;
  }
  if (!is_cache()) return;
  auto p = lru_pos_.find(key);
  if (p != lru_pos_.end()) lru_.erase(p->second);
  lru_pos_[key] = lru_.insert(lru_.end(), key);
  // As the reference's expiration tracker: with a ttl, each store or use restarts it; without,
  // the JWT's own expiry (set when stored) is the entry's end.
  if (ttl_.count() != 0) expires_ns_[key] = now_ns() + ttl_.count();
  else if (stored) {
    int64_t exp = expires_of(jwts_[key]);
    if (exp > 0) expires_ns_[key] = exp * 1'000'000'000LL;
    else expires_ns_.erase(key);
  }
}

bool AccountResolverStore::expired_locked(const std::string& key, int64_t now) const {
  auto e = expires_ns_.find(key);
  return e != expires_ns_.end() && e->second <= now;
}

void AccountResolverStore::drop_locked(const std::string& key) const {
  auto it = jwts_.find(key);
  if (it == jwts_.end()) return;
  toggle_hash(it->second);
  jwts_.erase(it);
  issued_.erase(key);
  expires_ns_.erase(key);
  if (auto p = lru_pos_.find(key); p != lru_pos_.end()) {
    lru_.erase(p->second);
    lru_pos_.erase(p);
  }
  std::error_code ec;
  fs::remove(path_of(key), ec);
}

size_t AccountResolverStore::expire() const {
  if (!is_dir()) return 0;
  std::lock_guard lk(mu_);
  int64_t now = now_ns();
  std::vector<std::string> gone;
  for (const auto& [key, _] : expires_ns_)
    if (expired_locked(key, now)) gone.push_back(key);
  for (const auto& key : gone) drop_locked(key);
  return gone.size();
}

void AccountResolverStore::toggle_hash(const std::string& token) const {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d);
  for (size_t i = 0; i < hash_.size(); ++i) hash_[i] ^= d[i];
}

std::string AccountResolverStore::save(const std::string& key, const std::string& token, int64_t issued_at,
                                       bool* changed) {
  if (changed) *changed = false;
  std::lock_guard lk(mu_);
  auto it = issued_.find(key);
  if (it != issued_.end() && it->second > issued_at) return "";
  auto old = jwts_.find(key);
  if (old != jwts_.end()) {
    if (old->second == token) return "";
    // The same JWT id is the same JWT (the reference compares ids).
    auto a = jwt::decode(old->second), b = jwt::decode(token);
    auto* da = std::get_if<jwt::Decoded>(&a);
    auto* db = std::get_if<jwt::Decoded>(&b);
    if (da && db && !da->id.empty() && da->id == db->id) return "";
  }
  if (it == issued_.end() && limit_ > 0 && static_cast<int64_t>(jwts_.size()) >= limit_) {
    if (!is_cache() || lru_.empty()) return "jwt store is full";
    // The cache makes room: the least recently used JWT goes.
    std::string victim = lru_.front();
    drop_locked(victim);
    old = jwts_.find(key);
  }
  if (is_dir()) {
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
  if (old != jwts_.end()) toggle_hash(old->second);
  toggle_hash(token);
  jwts_[key] = token;
  issued_[key] = issued_at;
  touch_locked(key, true);
  if (changed) *changed = true;
  return "";
}

bool AccountResolverStore::remove(const std::string& key) {
  std::lock_guard lk(mu_);
  auto it = jwts_.find(key);
  if (it == jwts_.end()) return false;
  if (is_cache()) {
    drop_locked(key);  // the reference's HardDelete
    return true;
  }
  toggle_hash(it->second);
  jwts_.erase(it);
  issued_.erase(key);
  expires_ns_.erase(key);
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

std::string AccountResolverStore::hash() const {
  std::lock_guard lk(mu_);
  return std::string(reinterpret_cast<const char*>(hash_.data()), hash_.size());
}

std::vector<std::string> AccountResolverStore::pack_lines() const {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (const auto& [key, token] : jwts_) {
    // As the reference's PackWalk: expired JWTs are not handed out.
    auto d = jwt::decode(token);
    if (auto* ok = std::get_if<jwt::Decoded>(&d); ok && ok->expires > 0 && ok->expires < now) continue;
    out.push_back(key + "|" + token);
  }
  return out;
}

std::string AccountResolverStore::merge(const std::string& pack, std::vector<std::string>& changed) {
  size_t pos = 0;
  while (pos <= pack.size()) {
    size_t nl = pack.find('\n', pos);
    std::string line = pack.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? pack.size() + 1 : nl + 1;
    if (line.empty()) continue;
    size_t bar = line.find('|');
    if (bar == std::string::npos || line.find('|', bar + 1) != std::string::npos)
      return "line in package didn't contain 2 entries: \"" + line + "\"";
    std::string key = line.substr(0, bar), token = line.substr(bar + 1);
    if (!nkey::is_valid_public_account_key(key)) return "key to merge is not a valid public account key";
    auto d = jwt::decode(token);
    auto* ok = std::get_if<jwt::Decoded>(&d);
    if (!ok) return std::get<std::string>(d);
    if (ok->subject != key) return "jwt subject nkey and provided nkey do not match";
    bool c = false;
    if (auto err = save(key, token, ok->issued_at, &c); !err.empty()) return err;
    if (c) changed.push_back(key);
  }
  return "";
}

}  // namespace nats
