#include "util/jwt.h"

#include <algorithm>
#include <vector>

#include "util/nkey.h"

namespace nats::jwt {

namespace {

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Header: {"typ":"JWT","alg":"ed25519-nkey"} (the v1 "ed25519" is still read).
std::string check_header(std::string_view part) {
  auto raw = base64url_decode(part);
  if (!raw) return "illegal base64 data in header";
  auto h = nlohmann::json::parse(*raw, nullptr, false);
  if (h.is_discarded() || !h.is_object()) return "invalid header JSON";
  auto field = [&](const char* k) -> std::optional<std::string> {
    auto it = h.find(k);
    if (it == h.end() || it->is_null()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto typ = field("typ"), alg = field("alg");
  if (!typ || !alg) return "invalid header JSON";
  if (upper(*typ) != "JWT") return "not supported type \"" + *typ + "\"";
  std::string a = lower(*alg);
  if (a != "ed25519" && a != "ed25519-nkey") return "unexpected \"" + *alg + "\" algorithm";
  return "";
}

bool get_string(const nlohmann::json& j, const char* k, std::string& out) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool get_int(const nlohmann::json& j, const char* k, int64_t& out) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<int64_t>();
  return true;
}

// A public key of any role, CRC checked.
bool valid_public_key(std::string_view key) {
  auto raw = nkey::decode_checked(key);
  if (!raw || raw->size() != 33) return false;
  auto p = static_cast<uint8_t>((*raw)[0]);
  return p == nkey::kPrefixUser || p == nkey::kPrefixAccount || p == nkey::kPrefixServer ||
         p == nkey::kPrefixOperator || p == nkey::kPrefixCluster;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(s.size() * 3 / 4);
  uint32_t buf = 0;
  int bits = 0;
  for (char c : s) {
    int v = b64url_value(c);
    if (v < 0) return std::nullopt;
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  // Go's strict decoder refuses trailing bits that are not zero.
  if (bits > 0 && (buf & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string base64url_encode(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(a[(buf >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(a[(buf << (6 - bits)) & 63]);
  return out;
}

std::variant<Decoded, std::string> decode(std::string_view token) {
  if (token.size() > kMaxTokenSize)
    return "token size " + std::to_string(token.size()) + " exceeds maximum of " + std::to_string(kMaxTokenSize) +
           " bytes: token too large";
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) return "expected 3 chunks";
  if (auto err = check_header(token.substr(0, d1)); !err.empty()) return err;
  auto payload = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  if (!payload) return "illegal base64 data in claims";
  Decoded d;
  d.claims = nlohmann::json::parse(*payload, nullptr, false);
  if (d.claims.is_discarded() || !d.claims.is_object()) return "invalid claims JSON";
  const auto& c = d.claims;
  bool ok = get_string(c, "iss", d.issuer) && get_string(c, "sub", d.subject) && get_string(c, "name", d.name) &&
            get_string(c, "jti", d.id) && get_int(c, "iat", d.issued_at) && get_int(c, "exp", d.expires) &&
            get_int(c, "nbf", d.not_before);
  if (!ok) return "invalid claims JSON";
  // v1 tokens carry "type" at the top; v2 ones carry nats.type and nats.version.
  std::string top_type;
  if (!get_string(c, "type", top_type)) return "invalid claims JSON";
  if (!top_type.empty()) {
    d.type = top_type;
    d.version = 1;
  } else if (auto n = c.find("nats"); n != c.end() && !n->is_null()) {
    if (!n->is_object()) return "invalid claims JSON";
    int64_t v = 0;
    if (!get_string(*n, "type", d.type) || !get_int(*n, "version", v)) return "invalid claims JSON";
    d.version = static_cast<int>(std::clamp<int64_t>(v, -1, 1000));
  } else {
    d.version = 0;
  }
  if (d.version > 2) return "JWT was generated by a newer version ";
  if (d.type == "cluster") return "ClusterClaims are not supported";
  if (d.type == "server") return "ServerClaims are not supported";
  auto sig = base64url_decode(token.substr(d2 + 1));
  if (!sig) return "illegal base64 data in signature";
  if (!valid_public_key(d.issuer)) return "claim failed V" + std::string(d.version <= 1 ? "1" : "2") + " signature verification";
  auto pub = nkey::decode_checked(d.issuer);
  nkey::Key key;
  std::copy(pub->begin() + 1, pub->end(), key.begin());
  std::string_view signed_part = d.version <= 1 ? token.substr(d1 + 1, d2 - d1 - 1) : token.substr(0, d2);
  if (!nkey::verify(key, signed_part, *sig))
    return "claim failed V" + std::string(d.version <= 1 ? "1" : "2") + " signature verification";
  return d;
}

std::string time_check(const Decoded& d, int64_t now) {
  if (d.expires > 0 && now > d.expires) return "claim is expired";
  if (d.not_before > 0 && d.not_before > now) return "claim is not yet valid";
  return "";
}

Decorated parse_decorated(std::string_view text) {
  // Blocks are "---...---" lines around one line of content, as nsc writes them.
  std::vector<std::string> blocks;
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  auto is_fence = [](std::string_view l) { return l.size() >= 6 && l.substr(0, 3) == "---" && l.substr(l.size() - 3) == "---"; };
  for (size_t i = 0; i + 2 < lines.size(); ++i) {
    if (is_fence(lines[i]) && !lines[i + 1].empty() && !is_fence(lines[i + 1]) && is_fence(lines[i + 2])) {
      blocks.emplace_back(lines[i + 1]);
      i += 2;
    }
  }
  Decorated out;
  if (blocks.empty()) {
    std::string_view t = text;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
    out.jwt = std::string(t);
    return out;
  }
  out.jwt = blocks[0];
  if (blocks.size() > 1) out.seed = blocks[1];
  return out;
}

}  // namespace nats::jwt
