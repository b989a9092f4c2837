// Config reload turning TLS on or off in the gateway, leafnodes and websocket blocks, and
// changing the TLS of leaf remotes (server/reload_links.cpp). 2.9.10 leaves those blocks'
// TLS config out of its reload comparison: what it accepts, and what a peer then sees on the
// wire, checked against our server and 2.9.10 with the same expectations. Where 2.9.10 cannot
// be followed (its leafnodes listener crashes on the next handshake once TLS was turned off)
// the test says so.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cluster_test_util.h"
#include "reload_links_util.h"
#include "reload_test_util.h"
#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::free_port;

// The first line the server sends in clear within `wait` ("" if none: it waits for a TLS
// ClientHello first). `send` goes out first when not empty.
std::string plain_first_line(int port, const std::string& send = "", int wait_ms = 400) {
  int fd = dial_loopback(port);
  if (fd < 0) return "<no connection>";
  if (!send.empty()) (void)!::write(fd, send.data(), send.size());
  std::string line;
  pollfd p{fd, POLLIN, 0};
  char ch;
  while (line.size() < 65536 && ::poll(&p, 1, wait_ms) == 1 && ::recv(fd, &ch, 1, 0) == 1) {
    line += ch;
    if (line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0) break;
  }
  ::close(fd);
  return line;
}

bool says_tls_required(const std::string& info_line) {
  if (info_line.rfind("INFO ", 0) != 0) return false;
  return nlohmann::json::parse(info_line.substr(5), nullptr, false).value("tls_required", false);
}

class ReloadLinkTls : public ReloadLinksTlsTest {
 protected:
  // The harness waits for the client port; the other listeners may open just after it.
  static void wait_listening(int port) {
    ASSERT_TRUE(wait_for([&] { return testing_harness::port_open(port); }, milliseconds(3000))) << port;
  }
  static std::string lp(int port) { return "listen: \"127.0.0.1:" + std::to_string(port) + "\""; }
};

// The leafnodes listener keeps the TLS mode it started with. 2.9.10 builds the INFO that
// tells a leaf to start TLS once, at start-up, and performs the handshake only when that INFO
// asked for it: TLS turned on by reload is accepted and changes nothing on the wire. Turning
// it on or off changes the default authorization timeout, so it is refused unless the block
// sets one; a tls timeout other than the default is refused too.
TEST_P(ReloadLinkTls, LeafnodeListenerKeepsItsStartupTlsMode) {
  const int plain_port = free_port();
  const std::string auth = "authorization { timeout: 3 }";
  // Without an authorization timeout: refused (the default would go from 2 s to 3 s).
  auto bare = start("bare.conf", "leafnodes { " + lp(plain_port) + " }\n");
  wait_listening(plain_port);
  EXPECT_EQ(reload_config(*bare, conf("bare.conf"), "leafnodes { " + lp(plain_port) + ", " + tls(*one_) + " }\n")
                .rfind("config reload not supported for LeafNode: old=", 0),
            0u)
      << bare->log();
  bare.reset();

  auto plain = start("plain.conf", "leafnodes { " + lp(plain_port) + ", " + auth + " }\n");
  wait_listening(plain_port);
  ASSERT_EQ(reload_config(*plain, conf("plain.conf"), "leafnodes { " + lp(plain_port) + ", " + auth + ", " + tls(*one_) + " }\n"),
            "")
      << plain->log();
  // Still in clear: the INFO does not ask for TLS and a CONNECT in clear is answered.
  std::string info = plain_first_line(plain_port);
  EXPECT_FALSE(says_tls_required(info)) << info;
  RawClient leaf(plain_port);
  leaf.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":\"L\"}\r\nPING\r\n");
  bool pong = false;
  for (int i = 0; i < 20 && !pong; ++i) {
    auto l = leaf.read_line(milliseconds(3000));
    if (!l) break;
    pong = *l == "PONG";
  }
  EXPECT_TRUE(pong) << plain->log();
  // A TLS timeout of its own is a field 2.9.10 compares.
  EXPECT_EQ(reload_config(*plain, conf("plain.conf"),
                          "leafnodes { " + lp(plain_port) + ", " + auth + ", " + tls(*one_, ", timeout: 5") + " }\n")
                .rfind("config reload not supported for LeafNode: old=", 0),
            0u)
      << plain->log();

  // Started with TLS, turned off: the INFO still asks for TLS. 2.9.10 then crashes on the
  // handshake (nil TLS config); ours keeps the certificate it had.
  const int tls_port = free_port();  // picked just before its bind (other tests run alongside)
  auto secure = start("secure.conf", "leafnodes { " + lp(tls_port) + ", " + auth + ", " + tls(*one_) + " }\n");
  wait_listening(tls_port);
  ASSERT_EQ(reload_config(*secure, conf("secure.conf"), "leafnodes { " + lp(tls_port) + ", " + auth + " }\n"), "")
      << secure->log();
  info = plain_first_line(tls_port);
  EXPECT_TRUE(says_tls_required(info)) << info;
  if (ours()) {
    EXPECT_EQ(tls_first_line(tls_port, one_->ca, ClearInfo::first, false), "");
  }
}

// Gateways: accepted links follow the block as reloaded (TLS turned on: the handshake comes
// first; off: in clear), but the INFO's tls_required stays as at start-up, since 2.9.10 builds
// it once (gateway peers do not read it). Refused without the block's authorization timeout,
// as for leafnodes.
TEST_P(ReloadLinkTls, GatewayTlsTurnedOnAndOff) {
  const int gp = free_port();
  const std::string auth = "authorization { timeout: 3 }";
  const std::string gtls = tls(*one_, ", ca_file: \"" + one_->ca + "\", verify: true");
  auto gw = [&](int port, const std::string& extra) {
    return "accounts { SYS {} }\nsystem_account: SYS\ngateway { name: A, " + lp(port) + extra + " }\n";
  };
  auto plain = start("plain.conf", gw(gp, ""));
  EXPECT_EQ(reload_config(*plain, conf("plain.conf"), gw(gp, ", " + gtls)).rfind("config reload not supported for Gateway: old=", 0),
            0u)
      << plain->log();
  plain.reset();

  plain = start("plain.conf", gw(gp, ", " + auth));
  wait_listening(gp);
  EXPECT_NE(plain_first_line(gp).rfind("INFO ", 0), std::string::npos);
  ASSERT_EQ(reload_config(*plain, conf("plain.conf"), gw(gp, ", " + auth + ", " + gtls)), "") << plain->log();
  // No INFO in clear now: the server waits for a TLS handshake, after which the INFO comes
  // without tls_required (as at start-up).
  EXPECT_EQ(plain_first_line(gp), "");
  std::string info = tls_first_line(gp, one_->ca, ClearInfo::none, true, one_->client_cert, one_->client_key);
  EXPECT_EQ(info.rfind("INFO ", 0), 0u) << info;
  EXPECT_FALSE(says_tls_required(info)) << info;

  // Started with TLS, turned off: the INFO comes in clear, and says tls_required.
  const int sp = free_port();  // picked just before its bind (other tests run alongside)
  auto secure = start("secure.conf", gw(sp, ", " + auth + ", " + gtls));
  wait_listening(sp);
  EXPECT_EQ(plain_first_line(sp), "");
  ASSERT_EQ(reload_config(*secure, conf("secure.conf"), gw(sp, ", " + auth)), "") << secure->log();
  info = plain_first_line(sp);
  EXPECT_EQ(info.rfind("INFO ", 0), 0u) << info;
  EXPECT_TRUE(says_tls_required(info)) << info;
}

// A gateway link up stays when TLS is turned off; then the side that turned it off accepts
// in clear but still dials with TLS (2.9.10 never clears a configured remote's TLS config):
// after the other side restarts, its TLS dial in is refused while the dial out succeeds.
TEST_P(ReloadLinkTls, GatewayTlsTurnedOffKeepsDialledLinksOnTls) {
  const int ag = free_port(), bg = free_port(), ah = free_port(), bh = free_port();
  const std::string gtls = tls(*one_, ", ca_file: \"" + one_->ca + "\", verify: true");
  auto gw = [&](const char* name, int port, const std::string& extra) {
    return std::string("accounts { SYS {} }\nsystem_account: SYS\ngateway { name: ") + name + ", " + lp(port) +
           ", authorization { timeout: 3 }, gateways: [{ name: A, url: \"nats://127.0.0.1:" + std::to_string(ag) +
           "\" }, { name: B, url: \"nats://127.0.0.1:" + std::to_string(bg) + "\" }]" + extra + " }\n";
  };
  auto links = [](int http) {
    auto j = ctest::http_json(http, "/gatewayz");
    return std::to_string(j["outbound_gateways"].size()) + "/" + std::to_string(j["inbound_gateways"].size());
  };
  auto a = start("a.conf", gw("A", ag, ", " + gtls), ah);
  auto b = start("b.conf", gw("B", bg, ", " + gtls), bh);
  ASSERT_TRUE(wait_for([&] { return links(ah) == "1/1" && links(bh) == "1/1"; }, milliseconds(4000))) << a->log();

  ASSERT_EQ(reload_config(*a, conf("a.conf"), gw("A", ag, "")), "") << a->log();
  EXPECT_EQ(links(ah), "1/1");
  b->stop();
  b->start();
  // A dials B with TLS again; B's TLS dial to A's (now clear) port fails.
  EXPECT_TRUE(wait_for([&] { return links(ah) == "1/0" && links(bh) == "0/1"; }, milliseconds(4000)))
      << links(ah) << " " << links(bh) << b->log();
}

// The websocket listener is TLS or not from start-up (2.9.10's tls.Listen); a reload that
// keeps no_tls: true may add or remove the tls block. Added: still in clear. Removed: the
// handshakes go on with the start-up certificate (its GetConfigForClient finds no config
// and Go falls back to the listener's). Changing no_tls is refused.
TEST_P(ReloadLinkTls, WebsocketTlsModeStaysAsStarted) {
  const int pp = free_port();
  const std::string upgrade = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  auto plain = start("plain.conf", "websocket { " + lp(pp) + ", no_tls: true }\n");
  wait_listening(pp);
  ASSERT_EQ(reload_config(*plain, conf("plain.conf"), "websocket { " + lp(pp) + ", no_tls: true, " + tls(*one_) + " }\n"), "")
      << plain->log();
  EXPECT_EQ(plain_first_line(pp, upgrade).rfind("HTTP/1.1 ", 0), 0u);
  EXPECT_EQ(reload_config(*plain, conf("plain.conf"), "websocket { " + lp(pp) + ", " + tls(*one_) + " }\n")
                .rfind("config reload not supported for Websocket: old=", 0),
            0u)
      << plain->log();

  const int sp = free_port();  // picked just before its bind (other tests run alongside)
  auto secure = start("secure.conf", "websocket { " + lp(sp) + ", no_tls: true, " + tls(*one_) + " }\n");
  wait_listening(sp);
  ASSERT_EQ(reload_config(*secure, conf("secure.conf"), "websocket { " + lp(sp) + ", no_tls: true, " + tls(*two_) + " }\n"), "")
      << secure->log();
  EXPECT_EQ(tls_first_line(sp, two_->ca, ClearInfo::none, false), "");
  ASSERT_EQ(reload_config(*secure, conf("secure.conf"), "websocket { " + lp(sp) + ", no_tls: true }\n"), "")
      << secure->log();
  EXPECT_EQ(tls_first_line(sp, one_->ca, ClearInfo::none, false), "");
  EXPECT_EQ(tls_first_line(sp, two_->ca, ClearInfo::none, false), "<handshake failed>");
  EXPECT_EQ(plain_first_line(sp, upgrade).rfind("HTTP/1.1 ", 0), std::string::npos);
}

// A leaf remote's TLS files change by reload: the link up stays, the next dial uses them (the
// hub restarted with a certificate of the other authority is reached). Adding or removing a
// remote's tls block, or changing its timeout, is refused (2.9.10 compares the remote's
// TLSTimeout, 0 without a block).
TEST_P(ReloadLinkTls, LeafRemoteTlsForTheNextDial) {
  const int hub_leaf = free_port(), hub_http = free_port(), leaf_http = free_port();
  auto hub_conf = [&](const TestPki& p) { return "leafnodes { " + lp(hub_leaf) + ", " + tls(p) + " }\n"; };
  auto leaf_conf = [&](const std::string& remote_tls) {
    return "leafnodes { reconnect: 1, remotes: [{ url: \"nats-leaf://127.0.0.1:" + std::to_string(hub_leaf) + "\"" +
           remote_tls + " }] }\n";
  };
  auto ca = [](const TestPki& p, const std::string& extra = "") { return ", tls { ca_file: \"" + p.ca + "\"" + extra + " }"; };
  auto hub = start("hub.conf", hub_conf(*one_), hub_http);
  auto leaf = start("leaf.conf", leaf_conf(ca(*one_)), leaf_http);
  ASSERT_TRUE(wait_for([&] { return varz_count(leaf_http, "leafnodes") == 1; }, milliseconds(4000))) << leaf->log();

  EXPECT_EQ(reload_config(*leaf, conf("leaf.conf"), leaf_conf("")).rfind("config reload not supported for LeafNode: old=", 0), 0u)
      << leaf->log();
  EXPECT_EQ(reload_config(*leaf, conf("leaf.conf"), leaf_conf(ca(*one_, ", timeout: 5")))
                .rfind("config reload not supported for LeafNode: old=", 0),
            0u)
      << leaf->log();
  ASSERT_EQ(reload_config(*leaf, conf("leaf.conf"), leaf_conf(ca(*two_))), "") << leaf->log();
  EXPECT_EQ(varz_count(leaf_http, "leafnodes"), 1);

  // The hub comes back with a certificate only the new CA verifies.
  hub->stop();
  std::ofstream(conf("hub.conf"), std::ios::trunc) << hub_conf(*two_);
  hub->start();
  EXPECT_TRUE(wait_for([&] { return varz_count(hub_http, "leafnodes") == 1; }, milliseconds(4000))) << leaf->log();
}

INSTANTIATE_TEST_SUITE_P(Servers, ReloadLinkTls,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
