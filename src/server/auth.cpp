#include "server/auth.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "server/account.h"
#include "util/ids.h"
#include "util/nkey.h"

namespace nats {

namespace {
bool is_bcrypt(const std::string& s) {
  return s.size() > 4 && s[0] == '$' && s[1] == '2' && (s[2] == 'a' || s[2] == 'b' || s[2] == 'y') && s[3] == '$';
}
bool const_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

bool password_matches(const std::string& stored, const std::string& plain) {
  if (is_bcrypt(stored)) {
    crypt_data data;
    std::memset(&data, 0, sizeof data);
    const char* out = crypt_r(plain.c_str(), stored.c_str(), &data);
    return out && stored == out;
  }
  return const_time_equal(stored, plain);
}

Authenticator::Authenticator(const Options& opts, AccountClaimsLookup lookup) : lookup_(std::move(lookup)) {
  default_permissions_ = opts.default_permissions;
  if (opts.operator_mode()) {
    // Only user JWTs authenticate; config users are refused at load.
    operator_mode_ = true;
    required_ = true;
    for (const auto& t : opts.operator_jwts) {
      auto r = decode_operator_claims(t);
      if (auto* oc = std::get_if<OperatorClaims>(&r); oc && oc->strict_signing_key_usage) strict_signing_keys_ = true;
    }
    return;
  }
  if (!opts.authorization.empty()) {
    token_ = opts.authorization;
    required_ = true;
  }
  if (!opts.username.empty()) {
    User u;
    u.username = opts.username;
    u.password = opts.password;
    users_[u.username] = Entry{u, kGlobalAccount, false, true};
    required_ = true;
  }
  for (const auto& u : opts.users) add_user(u, u.account.empty() ? std::string(kGlobalAccount) : u.account, false);
  bool has_global_account_users = false;
  for (const auto& acc : opts.accounts) {
    for (const auto& u : acc.users) {
      User copy = u;
      if (!copy.permissions && acc.default_permissions) copy.permissions = acc.default_permissions;
      add_user(copy, acc.name, true);
      if (acc.name == kGlobalAccount) has_global_account_users = true;
    }
  }
  no_auth_user_ = opts.no_auth_user;
  explicit_no_auth_user_ = !no_auth_user_.empty();
  // The reference's implicit no-auth user: with only the system account and the global
  // account, and no authorization block, clients without credentials land in $G.
  if (no_auth_user_.empty() && !opts.authorization_configured && opts.username.empty() && opts.authorization.empty() &&
      opts.users.empty() && !has_global_account_users) {
    bool only_sys = true;
    std::string sys = opts.system_account.empty() ? kSystemAccount : opts.system_account;
    for (const auto& acc : opts.accounts)
      if (acc.name != sys && acc.name != kGlobalAccount) only_sys = false;
    if (only_sys && !opts.accounts.empty()) {
      std::string name;
      do {
        name = "nats-" + util::next_nuid().substr(0, 8);
      } while (users_.count(name));
      User u;
      u.username = name;
      users_[name] = Entry{u, kGlobalAccount};
      has_users_list_ = true;  // the reference adds it to its users
      no_auth_user_ = name;
    }
  }
}

void Authenticator::add_user(const User& u, const std::string& account, bool from_accounts_block) {
  if (u.nkey.empty()) {
    users_[u.username] = Entry{u, account, from_accounts_block};
    has_users_list_ = true;
  } else nkeys_[u.nkey] = Entry{u, account, from_accounts_block};
  required_ = true;
}

std::optional<AuthResult> Authenticator::result_for(const Entry& e, std::string_view connection_type) const {
  // Clients reach this server as STANDARD or WEBSOCKET (no leaf node or MQTT listeners).
  if (!connection_type_allowed(e.user.allowed_connection_types, connection_type)) return std::nullopt;
  AuthResult r;
  r.account = e.account;
  r.user = e.user.nkey.empty() ? e.user.username : e.user.nkey;
  if (e.user.permissions) r.permissions = e.user.permissions;
  else if (!e.from_accounts_block) r.permissions = default_permissions_;
  return r;
}

// The client proves it holds the key's seed by signing the nonce of the INFO it was sent.
std::optional<AuthResult> Authenticator::authenticate_nkey(const ClientCredentials& c, const std::string& nonce) const {
  auto it = nkeys_.find(c.nkey);
  if (it == nkeys_.end() || c.sig.empty() || nonce.empty()) return std::nullopt;
  auto sig = nkey::decode_signature(c.sig);
  auto pub = nkey::decode_public(c.nkey, nkey::kPrefixUser);
  if (!sig || !pub || !nkey::verify(*pub, nonce, *sig)) return std::nullopt;
  return result_for(it->second, c.connection_type);
}

std::optional<AuthResult> Authenticator::authenticate(const ClientCredentials& c, const std::string& nonce,
                                                     const std::string& client_ip) const {
  if (operator_mode_) return authenticate_jwt(c, nonce, client_ip);
  // The global account with the default permissions: no authentication, or the right token.
  auto global = [this] {
    AuthResult r;
    r.account = kGlobalAccount;
    r.permissions = default_permissions_;
    return r;
  };
  if (!required_) return global();
  if (!nkeys_.empty() && !c.nkey.empty()) return authenticate_nkey(c, nonce);
  if (c.tls_map && has_users_list_) return authenticate_cert(c);
  if (!token_.empty()) {
    if (!c.auth_token.empty() && const_time_equal(token_, c.auth_token)) return global();
    if (users_.empty()) return std::nullopt;
  }
  if (!c.user.empty()) {
    auto it = users_.find(c.user);
    if (it == users_.end()) return std::nullopt;
    if (!password_matches(it->second.user.password, c.pass)) return std::nullopt;
    return result_for(it->second, c.connection_type);
  }
  // No credentials: the no-auth user, if any.
  if (c.auth_token.empty() && c.nkey.empty() && c.jwt.empty() && !no_auth_user_.empty() && c.allow_no_auth_user) {
    auto it = users_.find(no_auth_user_);
    if (it != users_.end()) {
      auto res = result_for(it->second, c.connection_type);
      if (res) res->via_no_auth_user = explicit_no_auth_user_;
      return res;
    }
  }
  return std::nullopt;
}

bool Authenticator::leaf_admitted_without_user(const ClientCredentials& c) const {
  if (operator_mode_) return false;
  if (!nkeys_.empty() && !c.nkey.empty()) return false;
  if (!has_users_list_) return true;
  if (c.tls_map) return false;
  bool no_credentials = c.user.empty() && c.pass.empty() && c.auth_token.empty();
  return c.user.empty() && !(no_credentials && explicit_no_auth_user_);
}

bool Authenticator::user_gone_or_moved(const ClientCredentials& c, const std::string& account) const {
  // A certificate's user: the re-authentication that follows finds it again, or not.
  if (c.tls_map && has_users_list_ && c.nkey.empty()) return false;
  const std::map<std::string, Entry>* table = nullptr;
  std::string key;
  if (!c.nkey.empty()) table = &nkeys_, key = c.nkey;
  else if (!c.user.empty()) table = &users_, key = c.user;
  else if (!c.no_auth_user.empty()) table = &users_, key = c.no_auth_user;
  else return false;
  auto it = table->find(key);
  return it == table->end() || it->second.account != account;
}

}  // namespace nats
