// The WebSocket listener: nats.ws (Node) against a TCP libnats client (pub/sub both ways,
// request/reply both ways, a payload past the 16-bit frame length), and raw sockets that
// send bad handshakes and bad frames and are answered as the reference answers them,
// without harm to the other clients.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "cluster_test_util.h"
#include "test_util.h"
#include "tls_test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

// The TCP side still works: a round trip through the server.
void expect_tcp_round_trip(const ServerProcess& s) {
  ConnPtr c;
  ASSERT_EQ(connect_url(c, s.url()), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, c.p, "rt"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(c.p, "rt", "ok"), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 3000), NATS_OK);
  EXPECT_STREQ(natsMsg_GetData(m.p), "ok");
}

TEST(Websocket, RawClientHandshakeFramesAndPingPong) {
  int ws_port = testing_harness::free_port();
  int http_port = testing_harness::free_port();
  auto s = start_with_config("http_port: " + std::to_string(http_port) + "\n" +
                             ws_config(ws_port, "  same_origin: true\n  handshake_timeout: \"2s\"\n"));
  auto varz = nlohmann::json::parse(ctest::http_get(http_port, "/varz"), nullptr, false);
  ASSERT_TRUE(varz.is_object());
  EXPECT_EQ(varz["websocket"], nlohmann::json::parse(R"({"host":"127.0.0.1","port":)" + std::to_string(ws_port) +
                                                     R"(,"handshake_timeout":2000000000,"no_tls":true,"same_origin":true})"));
  // A request that never ends is cut at handshake_timeout.
  RawClient slow(ws_port, false);
  ASSERT_TRUE(slow.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));

  RawClient c(ws_port, false);
  ASSERT_TRUE(c.send(upgrade_request(ws_port)));
  std::string head = read_head(c);
  EXPECT_EQ(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << head;
  auto info = read_frame(c);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->first, 2);  // binary
  EXPECT_EQ(info->second.rfind("INFO {", 0), 0u) << info->second;
  // CONNECT + PING split over a fragmented message, a websocket ping in between.
  ASSERT_TRUE(c.send(client_frame(0x02, "CONNECT {\"verbose\":false}\r\nPI") + client_frame(0x89, "hb") +
                     client_frame(0x80, "NG\r\n")));
  auto pong = read_frame(c);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->first, 10);
  EXPECT_EQ(pong->second, "hb");
  auto nats_pong = read_frame(c);
  ASSERT_TRUE(nats_pong);
  EXPECT_EQ(nats_pong->second, "PONG\r\n");
  // A close frame is echoed and the connection ends.
  std::string body = std::string("\x03\xe8", 2) + "bye";
  ASSERT_TRUE(c.send(client_frame(0x88, body)));
  auto close = read_frame(c);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->first, 8);
  EXPECT_EQ(close->second, body);
  EXPECT_TRUE(c.wait_closed(milliseconds(3000)));
  EXPECT_TRUE(slow.wait_closed(milliseconds(8000)));
}

TEST(Websocket, BadHandshakesAndFramesCloseOnlyThatClient) {
  int ws_port = testing_harness::free_port();
  auto s = start_with_config(ws_config(ws_port, "  allowed_origins: [\"https://good.example\"]\n"));
  ConnPtr bystander;
  ASSERT_EQ(connect_url(bystander, s->url()), NATS_OK);

  struct Case {
    std::string request, status_line;
  } cases[] = {
      {"POST / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400 Bad Request\r\n"},
      {upgrade_request(ws_port, "Origin: https://evil.example\r\n"), "HTTP/1.1 403 Forbidden\r\n"},
      {"\x16\x03\x01 not http at all\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
  };
  for (auto& k : cases) {
    RawClient c(ws_port, false);
    ASSERT_TRUE(c.send(k.request));
    std::string answer = c.read_until_close(milliseconds(3000));
    EXPECT_EQ(answer.rfind(k.status_line, 0), 0u) << answer;
    EXPECT_NE(answer.find("Sec-Websocket-Version: 13\r\n"), std::string::npos);
  }

  // An unmasked frame after a good handshake: close frame 1002 with the reason, then EOF.
  RawClient c(ws_port, false);
  ASSERT_TRUE(c.send(upgrade_request(ws_port, "Origin: https://good.example\r\n")));
  ASSERT_NE(read_head(c).find(" 101 "), std::string::npos);
  ASSERT_TRUE(read_frame(c));  // INFO
  ASSERT_TRUE(c.send(client_frame(0x82, "PING\r\n", false)));
  auto close = read_frame(c);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->first, 8);
  EXPECT_EQ(close->second, std::string("\x03\xea", 2) + "mask bit missing");
  EXPECT_TRUE(c.wait_closed(milliseconds(3000)));

  // Garbage NATS inside good frames: the protocol error closes with 1002 as well.
  RawClient g(ws_port, false);
  ASSERT_TRUE(g.send(upgrade_request(ws_port)));
  ASSERT_NE(read_head(g).find(" 101 "), std::string::npos);
  ASSERT_TRUE(read_frame(g));
  ASSERT_TRUE(g.send(client_frame(0x82, "BOGUS\r\n")));
  bool saw_close = false;
  for (int i = 0; i < 3 && !saw_close; ++i) {
    auto f = read_frame(g);
    if (!f) break;
    if (f->first == 8) {
      saw_close = true;
      EXPECT_EQ(f->second.substr(0, 2), std::string("\x03\xea", 2));
    }
  }
  EXPECT_TRUE(saw_close);

  EXPECT_TRUE(natsConnection_Status(bystander.p) == NATS_CONN_STATUS_CONNECTED);
  expect_tcp_round_trip(*s);
}

TEST(Websocket, RefusesConfigWithoutNoTlsAsTheReference) {
  testing_harness::TempDir dir;
  std::string conf = dir.write("ws.conf", "websocket { port: " + std::to_string(testing_harness::free_port()) + " }\n");
  std::vector<std::string> bins{testing_harness::server_binary()};
  if (testing_harness::reference_available()) bins.push_back(testing_harness::reference_binary());
  for (const auto& bin : bins) {
    // Without -t: the reference checks this when starting, not when testing the config.
    auto r = testing_harness::run_command("timeout 10 " + bin + " -c " + conf + " -p " +
                                          std::to_string(testing_harness::free_port()));
    EXPECT_NE(r.status, 0) << bin;
    EXPECT_NE(r.output.find("websocket requires TLS configuration"), std::string::npos) << bin << ": " << r.output;
  }
}

// allowed_connection_types: a WEBSOCKET-only user connects over WebSocket and not over TCP;
// a STANDARD-only user the other way round.
TEST(Websocket, AllowedConnectionTypes) {
  int ws_port = testing_harness::free_port();
  auto s = start_with_config(ws_config(ws_port) +
                             "authorization { users: [\n"
                             "  { user: web, password: p, allowed_connection_types: [\"WEBSOCKET\"] }\n"
                             "  { user: std, password: p, allowed_connection_types: [\"STANDARD\"] }\n]}\n");
  auto ws_login = [&](const std::string& user) {
    RawClient c(ws_port, false);
    if (!ws_open(c, ws_port)) return std::string("<no handshake>");
    c.send(client_frame(0x82, "CONNECT {\"verbose\":false,\"user\":\"" + user + "\",\"pass\":\"p\"}\r\nPING\r\n"));
    std::string text;
    while (text.find("PONG") == std::string::npos && text.find("-ERR") == std::string::npos) {
      auto f = read_frame(c);
      if (!f || f->first == 8) break;
      text += f->second;
    }
    return text;
  };
  EXPECT_EQ(ws_login("web"), "PONG\r\n");
  EXPECT_EQ(ws_login("std"), "-ERR 'Authorization Violation'\r\n");
  ConnPtr tcp;
  EXPECT_NE(connect_url(tcp, "nats://web:p@127.0.0.1:" + std::to_string(s->port())), NATS_OK);
  ConnPtr tcp2;
  EXPECT_EQ(connect_url(tcp2, "nats://std:p@127.0.0.1:" + std::to_string(s->port())), NATS_OK);
}

// Bad handshakes get the same status lines from the reference and from this server.
TEST(Websocket, HandshakeAnswersAsTheReference) {
  std::vector<std::string> bins{testing_harness::server_binary()};
  if (testing_harness::reference_available()) bins.push_back(testing_harness::reference_binary());
  for (const auto& bin : bins) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port, "  allowed_origins: [\"https://good.example\"]\n"), {}, bin);
    const std::pair<std::string, std::string> cases[] = {
        {"POST / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"},
        {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "HTTP/1.1 400 Bad Request"},
        {upgrade_request(ws_port, "Origin: https://evil.example\r\n"), "HTTP/1.1 403 Forbidden"},
        {upgrade_request(ws_port, "Origin: https://good.example\r\n"), "HTTP/1.1 101 Switching Protocols"},
    };
    for (const auto& [request, status] : cases) {
      RawClient c(ws_port, false);
      ASSERT_TRUE(c.send(request));
      auto line = c.read_line(milliseconds(3000));
      EXPECT_EQ(line.value_or("<none>"), status) << bin;
    }
  }
}

// The ports file lists the WebSocket URL as the reference's does.
TEST(Websocket, PortsFileListsTheWebsocketUrl) {
  std::vector<std::string> bins{testing_harness::server_binary()};
  if (testing_harness::reference_available()) bins.push_back(testing_harness::reference_binary());
  for (const auto& bin : bins) {
    testing_harness::TempDir d;
    int ws_port = testing_harness::free_port();
    auto s = start_with_config("ports_file_dir: \"" + d.path() + "\"\n" + ws_config(ws_port), {}, bin);
    std::string path = d.path() + "/nats-server_" + std::to_string(s->pid()) + ".ports";
    // Polled until whole: the file may be seen between its creation and its write.
    nlohmann::json j;
    ASSERT_TRUE(wait_for([&] {
      std::ifstream in(path);
      j = nlohmann::json::parse(in, nullptr, false);
      return j.is_object();
    }, milliseconds(5000))) << bin;
    EXPECT_EQ(j["websocket"], nlohmann::json::array({"ws://127.0.0.1:" + std::to_string(ws_port)})) << bin << j.dump();
  }
}

// TLS on the client port does not reach the WebSocket port: its INFO asks for no TLS, and a
// TCP client still must use TLS.
TEST(Websocket, InfoHasNoTlsFieldsWhenTheClientPortHasTls) {
  TestPki pki;
  ASSERT_TRUE(pki.ok);
  int ws_port = testing_harness::free_port();
  auto s = start_with_config("tls {\n  cert_file: \"" + pki.server_cert + "\"\n  key_file: \"" + pki.server_key +
                             "\"\n}\n" + ws_config(ws_port));
  RawClient c(ws_port, false);
  ASSERT_TRUE(c.send(upgrade_request(ws_port)));
  ASSERT_NE(read_head(c).find(" 101 "), std::string::npos);
  auto info = read_frame(c);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->second.rfind("INFO {", 0), 0u);
  EXPECT_EQ(info->second.find("tls_required"), std::string::npos) << info->second;
  ASSERT_TRUE(c.send(client_frame(0x82, "CONNECT {\"verbose\":false}\r\nPING\r\n")));
  auto pong = read_frame(c);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->second, "PONG\r\n");
  RawClient tcp(s->port());
  EXPECT_NE(tcp.info().find("\"tls_required\":true"), std::string::npos) << tcp.info();
}

// Raw deflate (RFC 7692 framing: sync flush, its 00 00 ff ff tail left out), and back.
std::string deflate_message(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out - 4);
  deflateEnd(&z);
  return out;
}

// permessage-deflate against the reference and this server: the same 101 answer, a
// compressed INFO, a compressed CONNECT+PING split over two frames (RSV1 on the first only)
// answered with PONG; small answers go uncompressed; each message stands alone (no context
// takeover), so a second compressed message made from scratch is understood too.
TEST(Websocket, PermessageDeflateAsTheReference) {
  std::vector<std::string> bins{testing_harness::server_binary()};
  if (testing_harness::reference_available()) bins.push_back(testing_harness::reference_binary());
  for (const auto& bin : bins) {
    int ws_port = testing_harness::free_port();
    auto s = start_with_config(ws_config(ws_port, "  compression: true\n"), {}, bin);
    RawClient c(ws_port, false);
    ASSERT_TRUE(c.send(upgrade_request(ws_port, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")));
    std::string head = read_head(c);
    EXPECT_NE(head.find("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; "
                        "client_no_context_takeover\r\n"),
              std::string::npos)
        << bin << head;
    auto info = read_frame(c);
    ASSERT_TRUE(info) << bin;
    EXPECT_EQ(info->first, 0x42) << bin;  // binary, compressed
    EXPECT_EQ(inflate_message(info->second).rfind("INFO {", 0), 0u) << bin;
    for (int round = 0; round < 2; ++round) {
      std::string z = deflate_message("CONNECT {\"verbose\":false,\"pedantic\":false}\r\nPING\r\n");
      ASSERT_GT(z.size(), 4u);
      ASSERT_TRUE(c.send(client_frame(0x42, z.substr(0, 3)) + client_frame(0x80, z.substr(3))));
      auto pong = read_frame(c);
      ASSERT_TRUE(pong) << bin;
      EXPECT_EQ(pong->first, 2) << bin;  // below the compression threshold
      EXPECT_EQ(pong->second, "PONG\r\n") << bin;
    }
    // A payload big enough to be compressed on the way back.
    SubPtr sub;
    std::string big(2000, 'a');
    std::string sub_pub = "SUB big 1\r\nPUB big " + std::to_string(big.size()) + "\r\n" + big + "\r\n";
    ASSERT_TRUE(c.send(client_frame(0xC2, deflate_message(sub_pub))));
    auto msg = read_frame(c);
    ASSERT_TRUE(msg) << bin;
    EXPECT_EQ(msg->first, 0x42) << bin;
    EXPECT_EQ(inflate_message(msg->second), "MSG big 1 2000\r\n" + big + "\r\n") << bin;
    // RSV1 on a continuation frame is a protocol error that ends the connection (the
    // reference does not always get its close frame out first; this server does).
    ASSERT_TRUE(c.send(client_frame(0x42, deflate_message("PI")) + client_frame(0xC0, "x")));
    auto close = read_frame(c);
    if (bin == testing_harness::server_binary()) {
      ASSERT_TRUE(close);
      EXPECT_EQ(close->first, 8);
      EXPECT_EQ(close->second, std::string("\x03\xea", 2) + "invalid continuation frame");
    }
    EXPECT_TRUE(c.wait_closed(milliseconds(3000))) << bin;
  }
}

// Without compression: true, an offer of permessage-deflate is not taken up.
TEST(Websocket, DeflateOfferIgnoredWithoutCompression) {
  int ws_port = testing_harness::free_port();
  auto s = start_with_config(ws_config(ws_port));
  RawClient c(ws_port, false);
  ASSERT_TRUE(c.send(upgrade_request(ws_port, "Sec-WebSocket-Extensions: permessage-deflate\r\n")));
  std::string head = read_head(c);
  EXPECT_NE(head.find(" 101 "), std::string::npos);
  EXPECT_EQ(head.find("Sec-WebSocket-Extensions"), std::string::npos) << head;
  auto info = read_frame(c);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->first, 2);
}

// Installs nats.ws (tests/integration/ws/package.json) once; false if node is missing. The
// install runs under a file lock: the integration shards run side by side and may both get here.
bool node_client_ready(std::string& dir) {
  dir = std::string(NATS_SOURCE_DIR) + "/tests/integration/ws";
  if (testing_harness::run_command("node --version").status != 0) return false;
  if (access((dir + "/node_modules/nats.ws/package.json").c_str(), R_OK) != 0) {
    auto r = testing_harness::run_command(
        "cd '" + dir + "' && flock .npm-install.lock sh -c "
        "'test -f node_modules/nats.ws/package.json || npm ci --no-audit --no-fund --loglevel=error'");
    EXPECT_EQ(r.status, 0) << r.output;
  }
  return true;
}

void on_service(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  std::string reply = "pong:" + std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m));
  natsConnection_PublishString(nc, natsMsg_GetReply(m), reply.c_str());
  natsMsg_Destroy(m);
}

// Runs ws_client.mjs against `target` (a port or a URL) with a TCP libnats client on the
// server's client port; `env` is put before the command. Returns the extensions line.
void run_nats_ws(const ServerProcess& s, const std::string& dir, const std::string& target, const std::string& env,
                 const std::string& expected_extensions) {
  ConnPtr tcp;
  ASSERT_EQ(connect_url(tcp, s.url()), NATS_OK);
  SubPtr svc, out;
  ASSERT_EQ(natsConnection_Subscribe(&svc.p, tcp.p, "tcp.svc", on_service, nullptr), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&out.p, tcp.p, "ws.out"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(tcp.p), NATS_OK);

  std::string cmd = env + " node '" + dir + "/ws_client.mjs' " + target + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::vector<std::string> lines;
  auto next_line = [&]() -> std::string {
    char buf[4096];
    if (!fgets(buf, sizeof buf, p)) return "<eof>";
    std::string l(buf);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    lines.push_back(l);
    return l;
  };
  EXPECT_EQ(next_line(), "EXTENSIONS " + expected_extensions);
  EXPECT_EQ(next_line().rfind("CONNECTED N", 0), 0u);
  EXPECT_EQ(next_line(), "READY");
  // TCP -> WebSocket request/reply while the WebSocket side asks the TCP side.
  MsgPtr rep;
  EXPECT_EQ(natsConnection_RequestString(&rep.p, tcp.p, "ws.echo", "hi", 5000), NATS_OK);
  if (rep.p) {
    EXPECT_EQ(std::string(natsMsg_GetData(rep.p)), "echo:hi");
  }
  EXPECT_EQ(next_line(), "REPLY pong:ping");
  EXPECT_EQ(next_line(), "PUBLISHED");
  MsgPtr big, small;
  EXPECT_EQ(natsSubscription_NextMsg(&big.p, out.p, 5000), NATS_OK);
  if (big.p) {
    EXPECT_EQ(natsMsg_GetDataLength(big.p), 70000);
  }
  EXPECT_EQ(natsSubscription_NextMsg(&small.p, out.p, 5000), NATS_OK);
  if (small.p) {
    EXPECT_STREQ(natsMsg_GetData(small.p), "hello from ws");
  }
  ASSERT_EQ(natsConnection_PublishString(tcp.p, "ws.in", "hello from tcp"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(tcp.p), NATS_OK);
  EXPECT_EQ(next_line(), "GOT hello from tcp");
  EXPECT_EQ(next_line(), "DONE");
  std::string rest;
  for (std::string l = next_line(); l != "<eof>"; l = next_line()) rest += l + "\n";
  int st = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << rest;
}

TEST(Websocket, NatsWsClientTalksToTcpClient) {
  std::string dir;
  if (!node_client_ready(dir)) GTEST_SKIP() << "node is not installed";
  int ws_port = testing_harness::free_port();
  auto s = start_with_config(ws_config(ws_port));
  // The client offers permessage-deflate; compression is off, so none is agreed.
  run_nats_ws(*s, dir, std::to_string(ws_port), "", "none");
}

std::string ws_tls_block(const TestPki& pki) {
  return "  tls {\n    cert_file: \"" + pki.server_cert + "\"\n    key_file: \"" + pki.server_key + "\"\n  }\n";
}

// wss: the tls block in websocket {} without no_tls; nats.ws connects over TLS, checking
// the server certificate against the test CA.
TEST(Websocket, NatsWsClientOverTls) {
  std::string dir;
  if (!node_client_ready(dir)) GTEST_SKIP() << "node is not installed";
  TestPki pki;
  ASSERT_TRUE(pki.ok);
  int ws_port = testing_harness::free_port();
  auto s = start_with_config("websocket {\n  listen: \"127.0.0.1:" + std::to_string(ws_port) + "\"\n" +
                             ws_tls_block(pki) + "}\n");
  run_nats_ws(*s, dir, "wss://127.0.0.1:" + std::to_string(ws_port), "NODE_EXTRA_CA_CERTS='" + pki.ca + "'", "none");
  // A plain-text upgrade on the wss port gets no HTTP answer (the TLS handshake fails) and
  // the TCP side is unharmed.
  RawClient c(ws_port, false);
  ASSERT_TRUE(c.send(upgrade_request(ws_port)));
  EXPECT_EQ(c.read_until_close(milliseconds(5000)).find("HTTP/1.1"), std::string::npos);
  expect_tcp_round_trip(*s);
}

// compression: true, over TLS: the `ws` package's offer of permessage-deflate is taken up
// (its 70000-byte publish goes compressed, and so do the server's bigger frames).
TEST(Websocket, NatsWsClientWithCompressionOverTls) {
  std::string dir;
  if (!node_client_ready(dir)) GTEST_SKIP() << "node is not installed";
  TestPki pki;
  ASSERT_TRUE(pki.ok);
  int ws_port = testing_harness::free_port();
  auto s = start_with_config("websocket {\n  listen: \"127.0.0.1:" + std::to_string(ws_port) +
                             "\"\n  compression: true\n" + ws_tls_block(pki) + "}\n");
  run_nats_ws(*s, dir, "wss://127.0.0.1:" + std::to_string(ws_port), "NODE_EXTRA_CA_CERTS='" + pki.ca + "'",
              "permessage-deflate");
}

TEST(Websocket, NatsWsClientWithCompression) {
  std::string dir;
  if (!node_client_ready(dir)) GTEST_SKIP() << "node is not installed";
  int ws_port = testing_harness::free_port();
  auto s = start_with_config(ws_config(ws_port, "  compression: true\n"));
  run_nats_ws(*s, dir, std::to_string(ws_port), "", "permessage-deflate");
}

// The ports file says wss for a TLS websocket port, as the reference's does.
TEST(Websocket, PortsFileSaysWssWithTls) {
  TestPki pki;
  ASSERT_TRUE(pki.ok);
  std::vector<std::string> bins{testing_harness::server_binary()};
  if (testing_harness::reference_available()) bins.push_back(testing_harness::reference_binary());
  for (const auto& bin : bins) {
    testing_harness::TempDir d;
    int ws_port = testing_harness::free_port();
    auto s = start_with_config("ports_file_dir: \"" + d.path() + "\"\nwebsocket {\n  listen: \"127.0.0.1:" +
                                   std::to_string(ws_port) + "\"\n" + ws_tls_block(pki) + "}\n",
                               {}, bin);
    std::string path = d.path() + "/nats-server_" + std::to_string(s->pid()) + ".ports";
    // Polled until whole: the file may be seen between its creation and its write.
    nlohmann::json j;
    ASSERT_TRUE(wait_for([&] {
      std::ifstream in(path);
      j = nlohmann::json::parse(in, nullptr, false);
      return j.is_object();
    }, milliseconds(5000))) << bin;
    EXPECT_EQ(j["websocket"], nlohmann::json::array({"wss://127.0.0.1:" + std::to_string(ws_port)})) << bin << j.dump();
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
