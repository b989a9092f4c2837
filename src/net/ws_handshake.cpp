#include "net/ws_handshake.h"
#include "util/strings.h"

#include "net/ws_deflate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <random>

namespace nats::net::ws {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct Request {
  std::string method;
  std::string target;  // the request line's target ("/leafnode", "/")
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string first(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // Whether a comma-separated header holds `token` (case-insensitive), as the reference checks.
  bool contains(const std::string& name, std::string_view token) const {
    auto [b, e] = headers.equal_range(name);
    for (auto it = b; it != e; ++it) {
      std::string_view v = it->second;
      while (!v.empty()) {
        size_t c = v.find(',');
        if (util::ascii_lower(trim(v.substr(0, c))) == util::ascii_lower(token)) return true;
        if (c == std::string_view::npos) break;
        v.remove_prefix(c + 1);
      }
    }
    return false;
  }
};

// The header lines after the first line, names in lower case; false if one is malformed.
bool parse_headers(std::string_view head, Request& r) {
  while (!head.empty()) {
    size_t eol = head.find("\r\n");
    std::string_view h = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    if (h.empty()) continue;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    r.headers.emplace(util::ascii_lower(trim(h.substr(0, colon))), std::string(trim(h.substr(colon + 1))));
  }
  return true;
}

bool parse_request(std::string_view head, Request& r) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp = line.find(' ');
  size_t proto = line.find(" HTTP/1.");
  if (sp == std::string_view::npos || proto == std::string_view::npos) return false;
  r.method = std::string(line.substr(0, sp));
  if (proto > sp) r.target = std::string(line.substr(sp + 1, proto - sp - 1));
  head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
  return parse_headers(head, r);
}

// Splits host[:port], with the scheme's default port; the host in lower case.
bool host_and_port(std::string_view hostport, bool tls, std::string& host, std::string& port) {
  if (hostport.empty()) return false;
  size_t colon = hostport.rfind(':');
  size_t bracket = hostport.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = util::ascii_lower(hostport.substr(0, colon));
    port = std::string(hostport.substr(colon + 1));
  } else {
    host = util::ascii_lower(hostport);
    port = tls ? "443" : "80";
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return !port.empty() && std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
}

const char* status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    default: return "Internal Server Error";
  }
}

HandshakeResult reject(int status, std::string reason) {
  HandshakeResult r;
  r.status = HandshakeResult::Rejected;
  std::string body = std::string(status_text(status)) + "\n";
  r.response = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
               "\r\nContent-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\n"
               "X-Content-Type-Options: nosniff\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
  r.error = "websocket handshake error: " + std::move(reason);
  return r;
}

// Empty when the origin is acceptable, else why not.
std::string check_origin(const Request& req, const OriginPolicy& policy) {
  if (!policy.same_origin && policy.allowed.empty()) return "";
  std::string origin = req.first("origin");
  if (origin.empty()) origin = req.first("sec-websocket-origin");
  if (origin.empty()) return "";  // not from a browser: the origin model does not apply
  AllowedOrigin o;
  if (!parse_origin(origin, o)) return "invalid origin " + origin;
  if (policy.same_origin) {
    std::string rh, rp;
    if (!host_and_port(req.first("host"), false, rh, rp)) return "invalid host";
    if (o.host != rh || o.port != rp) return "not same origin";
  }
  if (!policy.allowed.empty()) {
    bool ok = std::any_of(policy.allowed.begin(), policy.allowed.end(), [&](const AllowedOrigin& a) {
      return a.host == o.host && a.scheme == o.scheme && a.port == o.port;
    });
    if (!ok) return "not in the allowed list";
  }
  return "";
}

// Whether any Sec-WebSocket-Extensions entry is permessage-deflate, whatever its
// parameters (the reference only checks the name: it always answers with both
// no_context_takeover parameters).
bool offers_deflate(const Request& req) {
  auto [b, e] = req.headers.equal_range("sec-websocket-extensions");
  for (auto it = b; it != e; ++it) {
    std::string_view v = it->second;
    while (!v.empty()) {
      size_t c = v.find_first_of(",;");
      if (util::ascii_lower(trim(v.substr(0, c))) == "permessage-deflate") return true;
      if (c == std::string_view::npos) break;
      v.remove_prefix(c + 1);
    }
  }
  return false;
}

// A cookie's value from the Cookie headers ("a=1; b=2"), unquoted; empty if absent.
std::string cookie_value(const Request& req, std::string_view name) {
  auto [b, e] = req.headers.equal_range("cookie");
  for (auto it = b; it != e; ++it) {
    std::string_view v = it->second;
    while (!v.empty()) {
      size_t c = v.find(';');
      std::string_view pair = trim(v.substr(0, c));
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
        std::string_view val = trim(pair.substr(eq + 1));
        if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
        return std::string(val);
      }
      if (c == std::string_view::npos) break;
      v.remove_prefix(c + 1);
    }
  }
  return "";
}

}  // namespace

bool parse_origin(std::string_view url, AllowedOrigin& out) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  out.scheme = util::ascii_lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  return host_and_port(rest, out.scheme == "https", out.host, out.port);
}

std::string accept_key(std::string_view key) {
  std::string in(key);
  in += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

HandshakeResult process_handshake(std::string_view data, const OriginPolicy& policy, size_t max_request) {
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > max_request) return reject(400, "request too large");
    return {};
  }
  Request req;
  if (!parse_request(data.substr(0, end + 2), req)) return reject(400, "malformed HTTP request");
  if (req.method != "GET") return reject(405, "request method must be GET");
  if (req.first("host").empty()) return reject(400, "'Host' missing in request");
  if (!req.contains("upgrade", "websocket")) return reject(400, "invalid value for header 'Upgrade'");
  if (!req.contains("connection", "Upgrade")) return reject(400, "invalid value for header 'Connection'");
  std::string key = req.first("sec-websocket-key");
  if (key.empty()) return reject(400, "key missing");
  if (!req.contains("sec-websocket-version", "13")) return reject(400, "invalid version");
  if (std::string why = check_origin(req, policy); !why.empty()) return reject(403, "origin not allowed: " + why);
  // The client must wait for the answer before sending frames, as the reference requires.
  if (data.size() > end + 4) return reject(400, "client sent data before handshake is complete");
  HandshakeResult r;
  r.status = HandshakeResult::Accepted;
  r.consumed = end + 4;
  r.compress = policy.compression && offers_deflate(req);
  if (!policy.jwt_cookie.empty()) r.cookie_jwt = cookie_value(req, policy.jwt_cookie);
  r.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
               accept_key(key) + "\r\n";
  if (r.compress) r.response += kDeflateResponseHeader;
  // Nats-No-Masking: true (exactly; Go's Header.Get): the client will not mask its frames.
  r.no_masking = req.first("nats-no-masking") == "true";
  if (r.no_masking) r.response += "Nats-No-Masking: true\r\n";
  r.response += "\r\n";
  // The first X-Forwarded-For value, kept only when it is a single IP (net.ParseIP).
  std::string xff = req.first("x-forwarded-for");
  unsigned char addr[sizeof(struct in6_addr)];
  if (!xff.empty() && (inet_pton(AF_INET, xff.c_str(), addr) == 1 || inet_pton(AF_INET6, xff.c_str(), addr) == 1))
    r.forwarded_ip = xff;
  std::string ua = req.first("user-agent");
  r.browser = ua.rfind("Mozilla/", 0) == 0;
  r.no_compressed_fragments = r.browser && r.compress && ua.find("Version/") != std::string::npos &&
                              ua.find("Safari/") != std::string::npos;
  // The reference looks at the URL's escaped path; an absolute-form target keeps its path.
  std::string_view path = req.target;
  if (size_t sep = path.find("://"); sep != std::string_view::npos) {
    size_t slash = path.find('/', sep + 3);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  r.leaf = path.substr(0, kLeafNodePath.size()) == kLeafNodePath;
  return r;
}

std::string new_client_key() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    thread_local std::mt19937 gen{std::random_device{}()};
    for (auto& b : raw) b = static_cast<unsigned char>(gen());
  }
  unsigned char out[4 * ((sizeof raw + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, raw, sizeof raw);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

std::string client_request(std::string_view host, std::string_view path, std::string_view key, bool compress,
                           bool no_masking) {
  std::string r = "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) +
                   "\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                   std::string(key) + "\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n";
  if (compress) r += "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n";
  if (no_masking) r += "Nats-No-Masking: true\r\n";
  r += "\r\n";
  return r;
}

UpgradeAnswer check_upgrade_answer(std::string_view data, std::string_view key, bool asked_compress,
                                   bool asked_no_masking, size_t max_answer) {
  UpgradeAnswer a;
  size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > max_answer) {
      a.status = UpgradeAnswer::Rejected;
      a.error = "invalid websocket connection";
    }
    return a;
  }
  a.consumed = end + 4;
  a.status = UpgradeAnswer::Rejected;
  a.error = "invalid websocket connection";  // the reference's words for any wrong answer
  std::string_view head = data.substr(0, end + 2);
  size_t eol = head.find("\r\n");
  std::string_view status = head.substr(0, eol);
  // "HTTP/1.x 101 Switching Protocols"
  size_t sp = status.find(' ');
  if (status.substr(0, 7) != "HTTP/1." || sp == std::string_view::npos || status.substr(sp + 1, 3) != "101" ||
      (status.size() > sp + 4 && status[sp + 4] != ' '))
    return a;
  Request resp;
  if (!parse_headers(head.substr(eol + 2), resp)) return a;
  if (util::ascii_lower(resp.first("upgrade")) != "websocket" || util::ascii_lower(resp.first("connection")) != "upgrade" ||
      resp.first("sec-websocket-accept") != accept_key(key))
    return a;
  if (asked_compress) {
    // wsPMCExtensionSupport for an answer: permessage-deflate present, and then both
    // no_context_takeover parameters too.
    bool found = false, srv_nct = false, cli_nct = false;
    auto [b, e] = resp.headers.equal_range("sec-websocket-extensions");
    for (auto it = b; it != e; ++it) {
      std::string_view v = it->second;
      while (!v.empty()) {
        size_t comma = v.find(',');
        std::string_view ext = v.substr(0, comma);
        size_t semi = ext.find(';');
        if (util::ascii_lower(trim(ext.substr(0, semi))) == "permessage-deflate") {
          found = true;
          while (semi != std::string_view::npos) {
            ext.remove_prefix(semi + 1);
            semi = ext.find(';');
            std::string p = util::ascii_lower(trim(ext.substr(0, semi)));
            if (p == "server_no_context_takeover") srv_nct = true;
            else if (p == "client_no_context_takeover") cli_nct = true;
          }
        }
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
      }
    }
    if (found && !(srv_nct && cli_nct)) {
      a.error = "compression negotiation error";
      return a;
    }
    a.compress = found;
  }
  a.no_masking = asked_no_masking && resp.first("nats-no-masking") == "true";
  a.status = UpgradeAnswer::Accepted;
  a.error.clear();
  return a;
}

}  // namespace nats::net::ws
