// Client authentication: single user/password, token, users lists (top level and per
// account), NKey users (Ed25519 signature of the INFO nonce), bcrypt passwords, no_auth_user, and the reference's implicit no-auth user when
// only $SYS and the global account exist.
#pragma once

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "net/tls.h"
#include "server/jwt_accounts.h"

namespace nats {

// The credentials a client presented in CONNECT.
struct ClientCredentials {
  std::string user;
  std::string pass;
  std::string auth_token;
  std::string nkey;
  std::string sig;
  std::string jwt;
  bool allow_no_auth_user = true;
  // Set once the client got in as the no_auth_user (no credentials): that user's name. The
  // reference copies the name into the client's options then, so a reload that removes the
  // user closes the client as a removed user (user_gone_or_moved).
  std::string no_auth_user;
  // For users' allowed_connection_types: STANDARD, or WEBSOCKET on the websocket port.
  std::string connection_type = "STANDARD";
  // tls { verify_and_map } on the listener the client came in by: with a users list, the
  // user is the one its certificate names (`cert`; nullopt without one), as the reference.
  bool tls_map = false;
  std::optional<net::PeerCertNames> cert;
};

// A user's allowed_connection_types (from the config or a user JWT): empty allows every
// kind; otherwise the client's kind must be listed.
inline bool connection_type_allowed(const std::vector<std::string>& allowed, std::string_view type) {
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), type) != allowed.end();
}

// A user JWT's connect-time windows (`times`, `times_location`) at `now` (auth_jwt.cpp).
struct ConnectWindow {
  bool supported = true;  // false: a time zone other than local or UTC
  bool allowed = false;
  std::time_t until = 0;  // end of the window that admits now
};
ConnectWindow connect_window(const std::vector<std::pair<std::string, std::string>>& times,
                             const std::string& location, std::time_t now);

struct AuthResult {
  std::string account;  // account name ("$G" for the global account)
  std::string user;     // user name, for /connz
  std::optional<Permissions> permissions;
  // Operator mode: when the user's JWT expires (unix seconds, 0: never), and its own limits
  // (-1: none). The account's expiry is the account's timer (jwt_account_timers.cpp).
  int64_t user_expires = 0;  // also the end of the user's connect-time window
  int64_t max_subs = -1;
  int64_t max_payload = -1;
  int64_t user_issued_at = 0;
  bool bearer = false;
  std::string signing_key;  // the account signing key that issued the user JWT ("" if the account)
  bool via_no_auth_user = false;  // no credentials, admitted as the configured no_auth_user
};

// The current claims of an account in operator mode (null: unknown account).
using AccountClaimsLookup = std::function<AccountClaimsPtr(const std::string& account_key)>;

class Authenticator {
 public:
  explicit Authenticator(const Options& opts, AccountClaimsLookup lookup = {});

  // Whether INFO advertises auth_required.
  bool required() const { return required_; }
  // INFO's auth_required: the reference leaves it out when no_auth_user is configured, but
  // not for the implicit no-auth user.
  bool advertise_auth_required() const { return required_ && !explicit_no_auth_user_; }
  // With a no-auth user (configured or implicit) the reference accepts commands before
  // CONNECT; the auth timeout still applies.
  bool connect_required() const { return required_ && no_auth_user_.empty(); }
  // Whether INFO carries a nonce for NKey users to sign (as the reference: when any exist).
  bool nonce_required() const { return !nkeys_.empty() || operator_mode_; }
  // `nonce`: what this client's INFO carried; `client_ip` for a user JWT's source networks.
  // nullopt: Authorization Violation.
  std::optional<AuthResult> authenticate(const ClientCredentials& c, const std::string& nonce = {},
                                         const std::string& client_ip = {}) const;
  // A leaf that `authenticate` refused, on a server without a leafnodes authorization: 2.9.10
  // (processClientOrLeafAuthentication's end) still lets it in, bound to the leafnodes
  // account, unless its credentials named something that failed: a user JWT in operator
  // mode, an NKey it sent, a users-list user it named (or the no_auth_user standing in), or
  // the certificate under verify_and_map. A token or single user is never asked of a leaf.
  bool leaf_admitted_without_user(const ClientCredentials& c) const;
  // After a reload: whether the named user (or NKey) of `c` no longer exists or now belongs
  // to another account than `account` (the reference closes such clients without an error).
  bool user_gone_or_moved(const ClientCredentials& c, const std::string& account) const;
  // The no-auth user in effect (configured or implicit), empty if none.
  const std::string& no_auth_user() const { return no_auth_user_; }

 private:
  struct Entry {
    User user;
    std::string account;
    // Users of the accounts block get their account's default_permissions, never the
    // authorization block's (as the reference).
    bool from_accounts_block = false;
    // authorization { user, password }: not one of the reference's users list, so never a
    // certificate's user.
    bool single = false;
  };
  std::optional<AuthResult> result_for(const Entry& e, std::string_view connection_type) const;
  std::optional<AuthResult> authenticate_nkey(const ClientCredentials& c, const std::string& nonce) const;
  // verify_and_map: the user the certificate names (auth_cert.cpp).
  std::optional<AuthResult> authenticate_cert(const ClientCredentials& c) const;
  const Entry* user_for_dn(const net::Dn& cert_dn, std::string_view connection_type) const;
  void add_user(const User& u, const std::string& account, bool from_accounts_block);
  // Operator mode: the user JWT in CONNECT, checked against its account's claims (auth_jwt.cpp).
  std::optional<AuthResult> authenticate_jwt(const ClientCredentials& c, const std::string& nonce,
                                             const std::string& client_ip) const;

  bool operator_mode_ = false;
  bool strict_signing_keys_ = false;  // an operator asks that accounts sign only with signing keys
  AccountClaimsLookup lookup_;

  bool required_ = false;
  std::string token_;
  std::map<std::string, Entry> users_;  // by user name
  std::map<std::string, Entry> nkeys_;  // NKey users, by public key
  bool has_users_list_ = false;         // users_ holds more than the single user
  std::string no_auth_user_;
  bool explicit_no_auth_user_ = false;
  std::optional<Permissions> default_permissions_;
};

// True if `plain` matches `stored`, which is either plain text or a bcrypt hash ("$2a$...").
bool password_matches(const std::string& stored, const std::string& plain);

}  // namespace nats
