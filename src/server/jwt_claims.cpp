#include "server/jwt_claims.h"

#include "util/nkey.h"
#include "util/strings.h"

namespace nats {

namespace {

using json = nlohmann::json;

// Reads optional fields of one JSON object; a field of the wrong type marks the whole
// claim invalid (Go's json.Unmarshal fails on it too).
struct Fields {
  const json* obj = nullptr;
  bool& bad;

  Fields(const json& parent, const char* key, bool& bad_flag) : bad(bad_flag) {
    auto it = parent.find(key);
    if (it == parent.end() || it->is_null()) return;
    if (!it->is_object()) bad = true;
    else obj = &*it;
  }
  Fields(const json& o, bool& bad_flag) : obj(&o), bad(bad_flag) {}

  const json* find(const char* k) const {
    if (!obj) return nullptr;
    auto it = obj->find(k);
    return it == obj->end() || it->is_null() ? nullptr : &*it;
  }
  std::string str(const char* k) const {
    auto* v = find(k);
    if (!v) return "";
    if (!v->is_string()) { bad = true; return ""; }
    return v->get<std::string>();
  }
  int64_t num(const char* k, int64_t dflt = 0) const {
    auto* v = find(k);
    if (!v) return dflt;
    if (!v->is_number_integer()) { bad = true; return dflt; }
    return v->get<int64_t>();
  }
  bool flag(const char* k) const {
    auto* v = find(k);
    if (!v) return false;
    if (!v->is_boolean()) { bad = true; return false; }
    return v->get<bool>();
  }
  std::vector<std::string> strings(const char* k) const {
    std::vector<std::string> out;
    auto* v = find(k);
    if (!v) return out;
    if (!v->is_array()) { bad = true; return out; }
    for (const auto& e : *v) {
      if (!e.is_string()) { bad = true; return {}; }
      out.push_back(e.get<std::string>());
    }
    return out;
  }
};

std::optional<Permissions> read_permissions(const Fields& f, bool& any) {
  Permissions p;
  bool present = false;
  Fields pub(*f.obj, "pub", f.bad), sub(*f.obj, "sub", f.bad);
  auto pa = pub.strings("allow"), pd = pub.strings("deny"), sa = sub.strings("allow"), sd = sub.strings("deny");
  // As the reference's buildPermissionsFromJwt: an empty list is no list.
  if (!pa.empty() || !pd.empty()) {
    p.publish = SubjectPermission{pa, pd};
    present = true;
  }
  if (!sa.empty() || !sd.empty()) {
    p.subscribe = SubjectPermission{sa, sd};
    present = true;
  }
  if (auto* r = f.find("resp")) {
    if (!r->is_object()) {
      f.bad = true;
    } else {
      Fields rf(*r, f.bad);
      ResponsePermission rp;
      rp.max_msgs = static_cast<int>(rf.num("max"));
      rp.expires = Duration(rf.num("ttl"));
      // The reference's validateResponsePermissions defaults.
      if (rp.max_msgs == 0) rp.max_msgs = 1;
      if (rp.expires.count() == 0) rp.expires = std::chrono::minutes(2);
      p.response = rp;
      present = true;
    }
  }
  any = any || present;
  if (!present) return std::nullopt;
  return p;
}

UserPermissionLimits read_user_permission_limits(const Fields& f) {
  UserPermissionLimits u;
  if (!f.obj) return u;
  u.permissions = read_permissions(f, u.any_set);
  u.subs = f.num("subs", kJwtNoLimit);
  u.data = f.num("data", kJwtNoLimit);
  u.payload = f.num("payload", kJwtNoLimit);
  u.src = f.strings("src");
  if (auto* t = f.find("times")) {
    if (!t->is_array()) f.bad = true;
    else {
      u.has_times = !t->empty();
      for (const auto& e : *t) {
        if (!e.is_object()) { f.bad = true; break; }
        Fields tr(e, f.bad);
        u.times.emplace_back(tr.str("start"), tr.str("end"));
      }
    }
  }
  u.times_location = f.str("times_location");
  u.bearer_token = f.flag("bearer_token");
  u.allowed_connection_types = f.strings("allowed_connection_types");
  // As the jwt library's HasEmptyPermissions: any non-zero field counts.
  for (const char* k : {"subs", "data", "payload"})
    if (f.num(k) != 0) u.any_set = true;
  if (!u.src.empty() || u.has_times || u.bearer_token || !u.allowed_connection_types.empty() || f.find("times_location"))
    u.any_set = true;
  return u;
}

bool has_role(const std::string& key, uint8_t prefix) { return nkey::decode_public(key, prefix).has_value(); }

template <class T>
std::variant<T, std::string> typed(std::string_view token, const char* type, uint8_t issuer_prefix,
                                    uint8_t alt_issuer_prefix) {
  auto d = jwt::decode(token);
  if (auto* err = std::get_if<std::string>(&d)) return *err;
  T out;
  out.base = std::move(std::get<jwt::Decoded>(d));
  if (out.base.type != type) return std::string("not ") + (type[0] == 'a' || type[0] == 'o' ? "an " : "a ") + type + " claim";
  if (!has_role(out.base.issuer, issuer_prefix) && !has_role(out.base.issuer, alt_issuer_prefix))
    return "unable to validate expected prefixes";
  return out;
}

}  // namespace

bool AccountClaims::user_revoked(const std::string& key, int64_t issued_at) const {
  // As the reference's isRevoked: revoked when the entry is at or after the issue time.
  for (const char* k : {key.c_str(), "*"}) {
    auto it = revocations.find(k);
    if (it != revocations.end() && it->second >= issued_at) return true;
  }
  return false;
}

std::variant<OperatorClaims, std::string> decode_operator_claims(std::string_view token) {
  auto r = typed<OperatorClaims>(token, "operator", nkey::kPrefixOperator, nkey::kPrefixOperator);
  if (auto* oc = std::get_if<OperatorClaims>(&r)) {
    bool bad = false;
    Fields n(oc->base.claims, "nats", bad);
    oc->signing_keys = n.strings("signing_keys");
    oc->system_account = n.str("system_account");
    oc->assert_server_version = n.str("assert_server_version");
    oc->strict_signing_key_usage = n.flag("strict_signing_key_usage");
    if (bad) return std::string("invalid operator claims");
    if (!has_role(oc->base.subject, nkey::kPrefixOperator)) return std::string("not a valid operator public key");
  }
  return r;
}

std::variant<UserClaims, std::string> decode_user_claims(std::string_view token) {
  auto r = typed<UserClaims>(token, "user", nkey::kPrefixAccount, nkey::kPrefixAccount);
  if (auto* uc = std::get_if<UserClaims>(&r)) {
    bool bad = false;
    Fields n(uc->base.claims, "nats", bad);
    uc->limits = read_user_permission_limits(n);
    uc->issuer_account = n.str("issuer_account");
    if (bad) return std::string("invalid user claims");
    if (!has_role(uc->base.subject, nkey::kPrefixUser)) return std::string("not a valid user public key");
  }
  return r;
}

namespace {

void read_exports(const Fields& n, AccountClaims& ac) {
  auto* ex = n.find("exports");
  if (!ex) return;
  if (!ex->is_array()) { n.bad = true; return; }
  for (const auto& e : *ex) {
    if (!e.is_object()) { n.bad = true; return; }
    Fields f(e, n.bad);
    JwtExport x;
    x.name = f.str("name");
    x.subject = f.str("subject");
    x.type = f.str("type");
    x.token_req = f.flag("token_req");
    x.response_type = f.str("response_type");
    x.response_threshold_ns = f.num("response_threshold");
    // service_latency {sampling: 1-100 | "headers", results}: as the jwt library decodes it
    // (a sampling of another type fails the whole claim); the server checks the values.
    Fields lat(e, "service_latency", n.bad);
    if (lat.obj) {
      ServiceLatencyConfig l;
      if (auto* s = lat.find("sampling")) {
        if (s->is_string() && util::ascii_lower(s->get<std::string>()) == "headers") l.sampling = 0;
        else if (s->is_number_integer()) l.sampling = static_cast<int>(std::clamp<int64_t>(s->get<int64_t>(), -1, 1000));
        else n.bad = true;
      } else {
        l.sampling = 0;  // the jwt library's zero value: Headers
      }
      l.subject = lat.str("results");
      x.latency = l;
    }
    x.account_token_position = static_cast<unsigned>(f.num("account_token_position"));
    if (x.type != "stream" && x.type != "service") n.bad = true;
    ac.exports.push_back(std::move(x));
  }
}

void read_imports(const Fields& n, AccountClaims& ac) {
  auto* im = n.find("imports");
  if (!im) return;
  if (!im->is_array()) { n.bad = true; return; }
  for (const auto& e : *im) {
    if (!e.is_object()) { n.bad = true; return; }
    Fields f(e, n.bad);
    JwtImport x;
    x.name = f.str("name");
    x.subject = f.str("subject");
    x.account = f.str("account");
    x.token = f.str("token");
    x.to = f.str("to");
    x.local_subject = f.str("local_subject");
    x.type = f.str("type");
    x.share = f.flag("share");
    if (x.type != "stream" && x.type != "service") n.bad = true;
    ac.imports.push_back(std::move(x));
  }
}

void read_signing_keys(const Fields& n, AccountClaims& ac) {
  auto* sk = n.find("signing_keys");
  if (!sk) return;
  if (!sk->is_array()) { n.bad = true; return; }
  for (const auto& e : *sk) {
    if (e.is_string()) {
      ac.signing_keys[e.get<std::string>()] = std::nullopt;
    } else if (e.is_object()) {
      Fields f(e, n.bad);
      if (f.str("kind") != "user_scope") { n.bad = true; return; }
      Fields tmpl(e, "template", n.bad);
      ac.signing_keys[f.str("key")] = read_user_permission_limits(tmpl);
    } else {
      n.bad = true;
    }
  }
}

void read_mappings(const Fields& n, AccountClaims& ac) {
  auto* m = n.find("mappings");
  if (!m) return;
  if (!m->is_object()) { n.bad = true; return; }
  for (const auto& [src, dests] : m->items()) {
    if (!dests.is_array()) { n.bad = true; return; }
    MappingConfig mc;
    mc.src = src;
    for (const auto& d : dests) {
      if (!d.is_object()) { n.bad = true; return; }
      Fields f(d, n.bad);
      MappingDestConfig dc;
      dc.subject = f.str("subject");
      int64_t w = f.num("weight");
      dc.weight = w == 0 ? 100 : static_cast<int>(w);
      dc.cluster = f.str("cluster");
      mc.dests.push_back(dc);
    }
    ac.mappings.push_back(std::move(mc));
  }
}

}  // namespace

std::variant<AccountClaims, std::string> decode_account_claims(std::string_view token) {
  auto r = typed<AccountClaims>(token, "account", nkey::kPrefixOperator, nkey::kPrefixOperator);
  auto* ac = std::get_if<AccountClaims>(&r);
  if (!ac) return r;
  bool bad = false;
  Fields n(ac->base.claims, "nats", bad);
  read_exports(n, *ac);
  read_imports(n, *ac);
  read_signing_keys(n, *ac);
  read_mappings(n, *ac);
  static const json kEmpty = json::object();
  Fields lim(n.obj ? *n.obj : kEmpty, "limits", bad);
  ac->conn = lim.num("conn", kJwtNoLimit);
  ac->leaf = lim.num("leaf", kJwtNoLimit);
  ac->subs = lim.num("subs", kJwtNoLimit);
  ac->data = lim.num("data", kJwtNoLimit);
  ac->payload = lim.num("payload", kJwtNoLimit);
  ac->max_imports = lim.num("imports", kJwtNoLimit);
  ac->max_exports = lim.num("exports", kJwtNoLimit);
  ac->disallow_bearer = lim.flag("disallow_bearer");
  // As the reference's UpdateAccountClaims: JetStream is enabled by a memory or disk limit
  // (-1 unlimited, 0 none); the counts keep the JWT's value (0: unlimited, as the checks
  // read it); the per-stream byte limits and max_ack_pending turn 0 into -1. Untiered limits
  // win; otherwise `tiered_limits` (tier name -> the same fields) apply, JetStream being on
  // when any tier has a memory or disk limit (jwt's IsJSEnabled).
  auto read_js = [](const Fields& f) {
    auto unlimited = [](int64_t v) { return v > 0 ? v : int64_t{-1}; };
    JsAccountLimits j;
    j.max_memory = f.num("mem_storage");
    j.max_store = f.num("disk_storage");
    j.max_streams = f.num("streams");
    j.max_consumers = f.num("consumer");
    j.max_ack_pending = unlimited(f.num("max_ack_pending"));
    j.memory_max_stream_bytes = unlimited(f.num("mem_max_stream_bytes"));
    j.store_max_stream_bytes = unlimited(f.num("disk_max_stream_bytes"));
    j.max_bytes_required = f.flag("max_bytes_required");
    return j;
  };
  if (lim.num("mem_storage") != 0 || lim.num("disk_storage") != 0) {
    ac->jetstream_limits = true;
    ac->js_limits = read_js(lim);
  } else if (auto* t = lim.find("tiered_limits")) {
    if (!t->is_object()) bad = true;
    else
      for (const auto& [tier, v] : t->items()) {
        if (!v.is_object()) { bad = true; break; }
        JsAccountLimits j = read_js(Fields(v, bad));
        if (j.max_memory != 0 || j.max_store != 0) ac->jetstream_limits = true;
        ac->js_tiers[tier] = j;
      }
    if (!ac->jetstream_limits) ac->js_tiers.clear();
  }
  if (auto* rv = n.find("revocations")) {
    if (!rv->is_object()) bad = true;
    else
      for (const auto& [k, v] : rv->items()) {
        if (!v.is_number_integer()) { bad = true; break; }
        ac->revocations[k] = v.get<int64_t>();
      }
  }
  if (n.obj) {
    Fields dp(*n.obj, "default_permissions", bad);
    bool any = false;
    if (dp.obj) ac->default_permissions = read_permissions(dp, any);
  }
  if (bad) return std::string("invalid account claims");
  if (!has_role(ac->base.subject, nkey::kPrefixAccount)) return std::string("not a valid account public key");
  return r;
}

}  // namespace nats
