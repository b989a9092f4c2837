// Test-side NATS JWT minting: fresh NKey pairs (our util/nkey.h, OpenSSL Ed25519), claims in
// the jwt v2 library's layout with its defaults (limits -1: unlimited), signed tokens and
// creds files. Tests make every operator, account and user themselves.
#pragma once

#include <openssl/rand.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "util/bit_encoding.h"
#include "util/nkey.h"

namespace itest::jwt {

struct KeyPair {
  std::string seed;
  std::string pub;
};

inline KeyPair new_keys(uint8_t role) {
  nats::nkey::Key raw;
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  KeyPair k;
  k.seed = nats::nkey::encode_seed(raw, role);
  k.pub = nats::nkey::public_key_of_seed(k.seed);
  return k;
}
inline KeyPair operator_keys() { return new_keys(nats::nkey::kPrefixOperator); }
inline KeyPair account_keys() { return new_keys(nats::nkey::kPrefixAccount); }
inline KeyPair user_keys() { return new_keys(nats::nkey::kPrefixUser); }

using nats::util::base64url_encode;
inline std::string base64url(std::string_view in) { return base64url_encode(in); }

inline int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Signs `claims` (sub, name, nats, ... already set) by `signer`: sets iss, iat and jti.
inline std::string sign(nlohmann::json claims, const KeyPair& signer, int64_t issued_at = 0) {
  claims["iss"] = signer.pub;
  claims["iat"] = issued_at ? issued_at : now_unix();
  nats::nkey::Key r;
  RAND_bytes(r.data(), static_cast<int>(r.size()));
  claims["jti"] = nats::nkey::base32_encode(std::string(reinterpret_cast<const char*>(r.data()), r.size()));
  std::string header = base64url(R"({"typ":"JWT","alg":"ed25519-nkey"})");
  std::string body = header + "." + base64url(claims.dump());
  return body + "." + base64url(nats::nkey::sign(signer.seed, body));
}

inline nlohmann::json operator_claims(const KeyPair& op, const std::string& system_account = "") {
  nlohmann::json c = {{"sub", op.pub}, {"name", "test-operator"}, {"nats", {{"type", "operator"}, {"version", 2}}}};
  if (!system_account.empty()) c["nats"]["system_account"] = system_account;
  return c;
}

// An account with the library's defaults: every limit -1 (unlimited).
inline nlohmann::json account_claims(const KeyPair& acc, const std::string& name) {
  nlohmann::json limits = {{"subs", -1}, {"data", -1}, {"payload", -1}, {"imports", -1}, {"exports", -1},
                           {"wildcards", true}, {"conn", -1}, {"leaf", -1}};
  return {{"sub", acc.pub},
          {"name", name},
          {"nats", {{"limits", limits}, {"default_permissions", {{"pub", nlohmann::json::object()}, {"sub", nlohmann::json::object()}}},
                    {"type", "account"}, {"version", 2}}}};
}

inline nlohmann::json user_claims(const KeyPair& user, const std::string& name) {
  return {{"sub", user.pub},
          {"name", name},
          {"nats", {{"pub", nlohmann::json::object()}, {"sub", nlohmann::json::object()}, {"subs", -1}, {"data", -1},
                    {"payload", -1}, {"type", "user"}, {"version", 2}}}};
}

// A creds file as nsc writes it.
inline std::string creds(const std::string& user_jwt, const std::string& user_seed) {
  return "-----BEGIN NATS USER JWT-----\n" + user_jwt +
         "\n------END NATS USER JWT------\n\n"
         "************************* IMPORTANT *************************\n"
         "NKEY Seed printed below can be used to sign and prove identity.\n"
         "NKEYs are sensitive and should be treated as secrets.\n\n"
         "-----BEGIN USER NKEY SEED-----\n" +
         user_seed + "\n------END USER NKEY SEED------\n\n*************************************************************\n";
}

}  // namespace itest::jwt
