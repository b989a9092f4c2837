// The monitoring listener's HTTP handling (net/http_server.h), compared with the reference's
// (Go's net/http): status lines, the headers that matter (Content-Type, Location, Connection,
// X-Content-Type-Options), Go's own answers to malformed requests, HEAD, JSONP, keep-alive
// and pipelining, path cleaning redirects, http_base_path; and https_port over TLS.
#include <gtest/gtest.h>

#include <poll.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

using testing_harness::free_port;
using testing_harness::ServerProcess;

namespace {

struct RawHttp {
  std::string status_line, headers, body;  // headers: the lines after the status line, CRLF-joined
  bool closed = false;                     // the server closed the connection after it
};

// Splits one response off the front of `all` (Content-Length framed, or chunked); false when
// `all` does not hold a whole one yet.
bool take_response(std::string& all, bool head, RawHttp& out) {
  size_t e = all.find("\r\n\r\n");
  if (e == std::string::npos) return false;
  std::string h = all.substr(0, e);
  size_t sl = h.find("\r\n");
  out.status_line = h.substr(0, sl);
  out.headers = sl == std::string::npos ? "" : h.substr(sl + 2);
  size_t pos = e + 4;
  size_t cl_at = out.headers.find("Content-Length: ");
  if (out.headers.find("Transfer-Encoding: chunked") != std::string::npos) {
    out.body.clear();
    for (;;) {
      size_t le = all.find("\r\n", pos);
      if (le == std::string::npos) return false;
      size_t len = std::stoul(all.substr(pos, le - pos), nullptr, 16);
      if (all.size() < le + 2 + len + 2) return false;
      out.body += all.substr(le + 2, len);
      pos = le + 2 + len + 2;
      if (len == 0) break;
    }
  } else if (cl_at != std::string::npos && !head) {
    size_t len = std::stoul(out.headers.substr(cl_at + 16));
    if (all.size() < pos + len) return false;
    out.body = all.substr(pos, len);
    pos += len;
  } else if (cl_at == std::string::npos && !head) {
    out.body = all.substr(pos);  // until close
    pos = all.size();
  }
  all.erase(0, pos);
  return true;
}

// Sends `request` as is and reads `count` responses, then notes whether the server closed.
std::vector<RawHttp> exchange(int port, const std::string& request, size_t count = 1, bool head = false) {
  itest::RawClient c;
  std::vector<RawHttp> out;
  if (!c.connect(port, /*read_info=*/false) || !c.send(request)) return out;
  std::string all;
  bool closed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto read_more = [&](int wait_ms) {
    pollfd pfd{c.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, wait_ms) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
    if (n <= 0) closed = true;
    else all.append(buf, static_cast<size_t>(n));
    return true;
  };
  while (out.size() < count) {
    // A body without Content-Length or chunking runs until the close.
    size_t he = all.find("\r\n\r\n");
    bool until_close = he != std::string::npos && !head &&
                       all.substr(0, he).find("Content-Length: ") == std::string::npos &&
                       all.substr(0, he).find("Transfer-Encoding: chunked") == std::string::npos;
    RawHttp r;
    if ((!until_close || closed) && take_response(all, head, r)) {
      out.push_back(r);
      continue;
    }
    if (closed) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_more(static_cast<int>(left.count()))) break;
  }
  while (!closed && read_more(300)) {}
  if (!out.empty()) out.back().closed = closed;
  return out;
}

std::string header(const RawHttp& r, const std::string& name) {
  size_t p = ("\r\n" + r.headers).find("\r\n" + name + ": ");
  if (p == std::string::npos) return "<none>";
  size_t s = p + name.size() + 2;
  size_t e = r.headers.find("\r\n", s);
  return r.headers.substr(s, e == std::string::npos ? std::string::npos : e - s);
}

// What must agree between the servers: the status line, the headers that carry meaning, and
// (for answers that are not monitoring documents) the body.
std::string summary(const std::vector<RawHttp>& rs, bool with_body) {
  std::string s;
  for (auto& r : rs) {
    s += r.status_line + " | type=" + header(r, "Content-Type") + " | loc=" + header(r, "Location") +
         " | conn=" + header(r, "Connection") + " | nosniff=" + header(r, "X-Content-Type-Options") +
         " | closed=" + (r.closed ? "yes" : "no");
    if (with_body) s += " | body=" + r.body;
    s += "\n";
  }
  return s;
}

// Ours and (when installed) the reference, each with monitoring on its own port; `conf` is
// extra config file text.
struct MonitoredPair {
  int ours_http = free_port(), ref_http = free_port();
  testing_harness::TempDir dir;
  std::unique_ptr<ServerProcess> ours, ref;
  explicit MonitoredPair(const std::string& conf = "") {
    auto args = [&](int port, const char* name) {
      return std::vector<std::string>{"-c", dir.write(name, "http_port: " + std::to_string(port) + "\n" + conf)};
    };
    ours = std::make_unique<ServerProcess>(args(ours_http, "ours.conf"));
    ours->start();
    if (testing_harness::reference_available()) {
      ref = std::make_unique<ServerProcess>(args(ref_http, "ref.conf"), testing_harness::reference_binary());
      ref->start();
    }
  }
};

void expect_same(MonitoredPair& p, const std::string& req, bool with_body, size_t count = 1, bool head = false) {
  auto ours = exchange(p.ours_http, req, count, head);
  ASSERT_EQ(ours.size(), count) << req;
  if (!p.ref) return;
  auto ref = exchange(p.ref_http, req, count, head);
  ASSERT_EQ(ref.size(), count) << req;
  EXPECT_EQ(summary(ours, with_body), summary(ref, with_body)) << req;
}

}  // namespace

TEST(MonitorHttp, DocumentsHeadJsonpAndAnyMethodAsReference) {
  MonitoredPair p;
  expect_same(p, "GET /varz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
  expect_same(p, "POST /varz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", false);
  expect_same(p, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /healthz?callback=cb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /connz?sort=bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /healthz?js-enabled-only=maybe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /varz?callback=cb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
  auto jsonp = exchange(p.ours_http, "GET /varz?callback=cb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(jsonp.size(), 1u);
  EXPECT_EQ(jsonp[0].body.rfind("cb({", 0), 0u);
  EXPECT_EQ(jsonp[0].body.back(), ')');
  // HEAD: the headers a GET gets, its Content-Length, no body.
  auto head = exchange(p.ours_http, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2, true);
  ASSERT_EQ(head.size(), 2u);
  EXPECT_EQ(head[0].status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(header(head[0], "Content-Length"), "15");
  EXPECT_EQ(head[0].body, "");
  expect_same(p, "HEAD /varz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false, 1, true);
}

TEST(MonitorHttp, UnknownPathsRedirectsAndBadRequestsAsReference) {
  MonitoredPair p;
  expect_same(p, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /varz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET //varz?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /a/../connz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET /v%61rz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
  expect_same(p, "garbage\r\n\r\n", true);
  expect_same(p, "GET /varz HTTP/1.1\r\n\r\n", true);
  expect_same(p, "GET /varz HTTP/2.0\r\nHost: x\r\n\r\n", true);
  expect_same(p, "GET /varz HTTP/1.1\r\nHost: x\r\nbadheader\r\n\r\n", true);
  expect_same(p, "GET /varz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", true);
  expect_same(p, "GET /varz HTTP/1.1\r\nHost: x\r\nX: " + std::string(1100000, 'a') + "\r\n\r\n", true);
}

TEST(MonitorHttp, KeepAliveAndPipeliningAsReference) {
  MonitoredPair p;
  // Two pipelined requests answered in order on one connection that stays open.
  expect_same(p, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n", true, 2);
  // HTTP/1.0 closes unless asked to keep alive.
  expect_same(p, "GET /healthz HTTP/1.0\r\n\r\n", true);
  expect_same(p, "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true);
  // A body is skipped, and the next request on the connection is answered.
  expect_same(p,
              "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}GET /healthz HTTP/1.1\r\nHost: "
              "x\r\nConnection: close\r\n\r\n",
              true, 2);
  // The server is still fine after all that.
  auto j = nlohmann::json::parse(exchange(p.ours_http, "GET /varz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                     .at(0)
                                     .body);
  EXPECT_GE(j["http_req_stats"]["/healthz"].get<int>(), 4);
}

TEST(MonitorHttp, BasePathAsReference) {
  MonitoredPair p("http_base_path: \"nats/\"\n");
  expect_same(p, "GET /nats/varz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
  expect_same(p, "GET /nats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
  expect_same(p, "GET /varz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  expect_same(p, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
}

TEST(MonitorHttp, HttpsPortServesOverTls) {
  itest::TestPki pki;
  ASSERT_TRUE(pki.ok);
  testing_harness::TempDir dir;
  int https = free_port();
  std::string conf = "https_port: " + std::to_string(https) + "\ntls {\n  cert_file: \"" + pki.server_cert +
                     "\"\n  key_file: \"" + pki.server_key + "\"\n  ca_file: \"" + pki.ca + "\"\n  verify: true\n}\n";
  ServerProcess srv({"-c", dir.write("https.conf", conf)});
  srv.start();
  // verify: true asks clients of the client port for a certificate, never the monitor's.
  auto r = testing_harness::run_command("curl -s --cacert " + pki.ca + " https://127.0.0.1:" + std::to_string(https) +
                                        "/varz");
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output << srv.log();
  EXPECT_EQ(j["https_port"], https);
  EXPECT_EQ(j["http_req_stats"]["/varz"], 1);
  r = testing_harness::run_command("curl -s -o /dev/null -w '%{http_code}' --cacert " + pki.ca + " https://127.0.0.1:" +
                                   std::to_string(https) + "/nope");
  EXPECT_EQ(r.output, "404");
  EXPECT_NE(srv.log().find("Starting https monitor on"), std::string::npos) << srv.log();
}

TEST(MonitorHttp, HttpsPortNeedsTlsAndExcludesHttp) {
  testing_harness::TempDir dir;
  auto fails = [&](const std::string& conf, const std::string& want) {
    ServerProcess srv({"-c", dir.write("bad.conf", conf)});
    EXPECT_THROW(srv.start(), std::runtime_error);
    EXPECT_NE(srv.log().find(want), std::string::npos) << srv.log();
  };
  fails("https_port: " + std::to_string(free_port()) + "\n", "TLS cert and key required for HTTPS");
  fails("http_port: " + std::to_string(free_port()) + "\nhttps_port: " + std::to_string(free_port()) + "\n",
        "can't specify both HTTP");
}

}  // namespace NATS_TEST_FILE_ID
