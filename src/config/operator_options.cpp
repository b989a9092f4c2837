#include "config/operator_options.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "server/jwt_claims.h"
#include "server/url_account_fetcher.h"
#include "util/nkey.h"

namespace nats::config {

namespace {

// The operator claims of every configured operator JWT (already checked when added).
std::vector<OperatorClaims> operators_of(const Options& o) {
  std::vector<OperatorClaims> out;
  for (const auto& t : o.operator_jwts) {
    auto r = decode_operator_claims(t);
    if (auto* oc = std::get_if<OperatorClaims>(&r)) out.push_back(std::move(*oc));
  }
  return out;
}

// With one operator and no `resolver`, the reference resolves accounts over HTTP at the
// operator JWT's account_server_url followed by "/accounts" (where nsc pushes them). An
// absent URL leaves no resolver here (the reference tries the empty URL and fails at
// start-up); https is fetched as `resolver: URL(https://...)` is (resolver_tls applies).
std::string resolver_from_account_server_url(const OperatorClaims& op, Options& o) {
  const auto& claims = op.base.claims;
  auto nats = claims.find("nats");
  if (nats == claims.end() || !nats->is_object()) return "";
  auto it = nats->find("account_server_url");
  if (it == nats->end() || !it->is_string()) return "";
  std::string url = it->get<std::string>();
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!url.empty() && space(url.back())) url.pop_back();
  while (!url.empty() && space(url.front())) url.erase(url.begin());
  if (url.empty()) return "";
  url += "/accounts";
  HttpUrl parsed;
  if (!parse_http_url(url, parsed))
    return "operator account_server_url \"" + it->get<std::string>() +
           "\" is not supported by this server as the account resolver (only http:// and https:// URLs)";
  o.resolver = ResolverOptions{};
  o.resolver.type = "URL";
  o.resolver.url = url + "/";
  return "";
}

}  // namespace

std::string add_operator(const std::string& file_or_jwt, Options& opts) {
  std::string contents;
  std::ifstream in(file_or_jwt, std::ios::binary);
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    contents = ss.str();
  } else if (file_or_jwt.rfind(jwt::kJwtPrefix, 0) == 0) {
    contents = file_or_jwt;
  } else {
    // Go's wording: "open <file>: no such file or directory".
    std::string why = std::strerror(errno == 0 ? ENOENT : errno);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return "open " + file_or_jwt + ": " + why;
  }
  std::string token = jwt::parse_decorated(contents).jwt;
  auto oc = decode_operator_claims(token);
  if (auto* err = std::get_if<std::string>(&oc)) return *err;
  opts.operator_jwts.push_back(token);
  return "";
}

std::string validate_trusted_operators(Options& o) {
  if (o.operator_jwts.empty()) return "";
  auto ops = operators_of(o);
  if (o.resolver.type.empty() && ops.size() == 1) {
    if (auto err = resolver_from_account_server_url(ops[0], o); !err.empty()) return err;
  }
  if (o.resolver.type.empty()) return "operators require an account resolver to be configured";
  if (o.resolver.type == "URL" && !o.resolver_preload.empty())
    return "resolver preloads only available for writeable resolver types MEM/DIR/CACHE_DIR";
  if (!o.accounts.empty()) return "operators do not allow Accounts to be configured directly";
  bool users = !o.users.empty() || !o.username.empty();
  if (users) return "operators do not allow users to be configured directly";
  if (o.system_account.empty() && ops.size() == 1) o.system_account = ops[0].system_account;
  if ((o.resolver.type == "FULL" || o.resolver.type == "CACHE") && o.system_account.empty())
    return "using nats based account resolver - the system account needs to be specified in configuration or the "
           "operator jwt";
  for (const auto& op : ops) {
    if (!op.assert_server_version.empty()) {
      int maj = 0, min = 0, upd = 0;
      if (std::sscanf(op.assert_server_version.c_str(), "%d.%d.%d", &maj, &min, &upd) != 3)
        return "operator " + op.base.subject + " expects version " + op.assert_server_version +
               " got error instead: invalid version";
      // This server speaks for 2.9.10.
      if (maj > 2) return "operator " + op.base.subject + " expected major version " + std::to_string(maj) + " > server major version 2";
      if (maj == 2 && min > 9)
        return "operator " + op.base.subject + " expected minor version " + std::to_string(min) + " > server minor version 9";
      if (maj == 2 && min == 9 && upd > 10)
        return "operator " + op.base.subject + " expected update version " + std::to_string(upd) +
               " > server update version 10";
    }
    if (!op.strict_signing_key_usage) o.trusted_keys.push_back(op.base.subject);
    for (const auto& k : op.signing_keys) o.trusted_keys.push_back(k);
  }
  for (const auto& k : o.trusted_keys)
    if (!nkey::decode_public(k, nkey::kPrefixOperator))
      return "trusted Keys \"" + k + "\" are required to be a valid public operator nkey";
  return "";
}

std::string check_operator_system_account(const Options& o) {
  if (o.operator_jwts.empty() || o.system_account.empty()) return "";
  bool found = false, non_empty = false;
  for (const auto& op : operators_of(o)) {
    non_empty = non_empty || !op.system_account.empty();
    found = found || op.system_account == o.system_account;
  }
  return non_empty && !found ? "system_account in config and operator JWT must be identical" : "";
}

}  // namespace nats::config
