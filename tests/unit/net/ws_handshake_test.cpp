#include "net/ws_handshake.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::net::ws::NATS_TEST_FILE_ID {
namespace {

std::string request(const std::string& extra = "", const std::string& method = "GET") {
  return method + " / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         extra + "\r\n";
}

TEST(WsHandshake, AcceptKeyFromTheRfc) { EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); }

TEST(WsHandshake, AcceptsAValidUpgrade) {
  auto r = process_handshake(request(), {});
  ASSERT_EQ(r.status, HandshakeResult::Accepted) << r.error;
  EXPECT_EQ(r.consumed, request().size());
  EXPECT_NE(r.response.find("HTTP/1.1 101 Switching Protocols\r\n"), std::string::npos);
  EXPECT_NE(r.response.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
}

TEST(WsHandshake, IncompleteUntilTheBlankLine) {
  std::string req = request();
  EXPECT_EQ(process_handshake(req.substr(0, req.size() - 2), {}).status, HandshakeResult::Incomplete);
  EXPECT_EQ(process_handshake(std::string(70000, 'a'), {}).status, HandshakeResult::Rejected);
}

TEST(WsHandshake, RejectsAsTheReference) {
  auto check = [](const std::string& req, const std::string& status_line, const std::string& why) {
    auto r = process_handshake(req, {});
    ASSERT_EQ(r.status, HandshakeResult::Rejected) << why;
    EXPECT_EQ(r.response.rfind(status_line, 0), 0u) << r.response;
    EXPECT_NE(r.response.find("Sec-Websocket-Version: 13\r\n"), std::string::npos);
    EXPECT_EQ(r.error, "websocket handshake error: " + why);
  };
  check(request("", "POST"), "HTTP/1.1 405 Method Not Allowed", "request method must be GET");
  check("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 400 Bad Request", "'Host' missing in request");
  check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n", "HTTP/1.1 400 Bad Request", "invalid value for header 'Upgrade'");
  check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n", "HTTP/1.1 400 Bad Request",
        "invalid value for header 'Connection'");
  check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "HTTP/1.1 400 Bad Request",
        "key missing");
  check("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: k\r\n"
        "Sec-WebSocket-Version: 8\r\n\r\n",
        "HTTP/1.1 400 Bad Request", "invalid version");
  check(request() + "\x82", "HTTP/1.1 400 Bad Request", "client sent data before handshake is complete");
  check("garbage\r\n\r\n", "HTTP/1.1 400 Bad Request", "malformed HTTP request");
}

TEST(WsHandshake, OriginChecks) {
  OriginPolicy same;
  same.same_origin = true;
  EXPECT_EQ(process_handshake(request(), same).status, HandshakeResult::Accepted);  // no Origin: accepted
  EXPECT_EQ(process_handshake(request("Origin: http://127.0.0.1:8080\r\n"), same).status, HandshakeResult::Accepted);
  auto r = process_handshake(request("Origin: http://example.com\r\n"), same);
  EXPECT_EQ(r.status, HandshakeResult::Rejected);
  EXPECT_EQ(r.response.rfind("HTTP/1.1 403 Forbidden", 0), 0u);
  EXPECT_EQ(r.error, "websocket handshake error: origin not allowed: not same origin");

  OriginPolicy list;
  AllowedOrigin a;
  ASSERT_TRUE(parse_origin("https://Example.com", a));
  EXPECT_EQ(a.host, "example.com");
  EXPECT_EQ(a.port, "443");
  list.allowed.push_back(a);
  EXPECT_EQ(process_handshake(request("Origin: https://example.com:443\r\n"), list).status, HandshakeResult::Accepted);
  r = process_handshake(request("Origin: http://example.com\r\n"), list);
  EXPECT_EQ(r.error, "websocket handshake error: origin not allowed: not in the allowed list");
  EXPECT_FALSE(parse_origin("example.com", a));
}

// Nats-No-Masking (exactly "true"), X-Forwarded-For (one IP only) and the browser hints.
TEST(WsHandshake, NoMaskingForwardedForAndBrowser) {
  auto r = process_handshake(request("Nats-No-Masking: true\r\nX-Forwarded-For: 203.0.113.7\r\n"), {});
  ASSERT_EQ(r.status, HandshakeResult::Accepted) << r.error;
  EXPECT_TRUE(r.no_masking);
  EXPECT_NE(r.response.find("\r\nNats-No-Masking: true\r\n\r\n"), std::string::npos) << r.response;
  EXPECT_EQ(r.forwarded_ip, "203.0.113.7");
  EXPECT_FALSE(r.browser);
  r = process_handshake(request("Nats-No-Masking: TRUE\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n"), {});
  EXPECT_FALSE(r.no_masking);
  EXPECT_EQ(r.response.find("Nats-No-Masking"), std::string::npos);
  EXPECT_EQ(r.forwarded_ip, "");
  r = process_handshake(request("X-Forwarded-For: 2001:db8::1\r\nX-Forwarded-For: 9.9.9.9\r\nUser-Agent: Mozilla/5.0 Chrome\r\n"), {});
  EXPECT_EQ(r.forwarded_ip, "2001:db8::1");
  EXPECT_TRUE(r.browser);
  EXPECT_FALSE(r.no_compressed_fragments);
  OriginPolicy p;
  p.compression = true;
  r = process_handshake(request("User-Agent: Mozilla/5.0 (Macintosh) Version/17.0 Safari/605.1.15\r\n"
                                "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                        p);
  EXPECT_TRUE(r.browser);
  EXPECT_TRUE(r.no_compressed_fragments);
}


// The dialing side (a leaf soliciting over websocket): its request is what the listener
// accepts as a leaf, and the listener's answer is what the dialer accepts.
TEST(WsHandshake, LeafDialerRoundTrip) {
  const std::string key = new_client_key();
  EXPECT_EQ(key.size(), 24u);
  std::string req = client_request("127.0.0.1:8080", kLeafNodePath, key, true, true);
  OriginPolicy p;
  p.compression = true;
  auto r = process_handshake(req, p);
  ASSERT_EQ(r.status, HandshakeResult::Accepted) << r.error;
  EXPECT_TRUE(r.leaf);
  EXPECT_TRUE(r.compress);
  EXPECT_TRUE(r.no_masking);
  // The 101 with a frame right behind it: consumed stops at the blank line.
  auto a = check_upgrade_answer(r.response + "\x82\x01x", key, true, true);
  ASSERT_EQ(a.status, UpgradeAnswer::Accepted) << a.error;
  EXPECT_EQ(a.consumed, r.response.size());
  EXPECT_TRUE(a.compress);
  EXPECT_TRUE(a.no_masking);
  // A listener without compression and one that ignores Nats-No-Masking: both off.
  r = process_handshake(client_request("h:1", "/leafnode", key, true, true), {});
  std::string plain = r.response;
  plain.erase(plain.find("Nats-No-Masking: true\r\n"), 23);
  a = check_upgrade_answer(plain, key, true, true);
  ASSERT_EQ(a.status, UpgradeAnswer::Accepted);
  EXPECT_FALSE(a.compress);
  EXPECT_FALSE(a.no_masking);
  EXPECT_EQ(check_upgrade_answer(plain.substr(0, plain.size() - 2), key, false, false).status, UpgradeAnswer::Incomplete);
  // Client requests stay clients; an absolute-form target is looked at by its path.
  EXPECT_FALSE(process_handshake(request(), {}).leaf);
  std::string abs = request();
  abs.replace(4, 1, "http://h:1/leafnode/x");
  EXPECT_TRUE(process_handshake(abs, {}).leaf);
}

TEST(WsHandshake, DialerRejectsWrongAnswers) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  const std::string ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  EXPECT_EQ(check_upgrade_answer(ok + "\r\n", key, false, false).status, UpgradeAnswer::Accepted);
  auto bad = [&](const std::string& answer, bool compress = false) {
    auto a = check_upgrade_answer(answer, key, compress, false);
    return a.status == UpgradeAnswer::Rejected ? a.error : std::string("accepted");
  };
  EXPECT_EQ(bad("HTTP/1.1 400 Bad Request\r\n\r\n"), "invalid websocket connection");
  EXPECT_EQ(bad("HTTP/1.1 1010 X\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), "invalid websocket connection");
  EXPECT_EQ(bad("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"),
            "invalid websocket connection");
  EXPECT_EQ(bad(ok + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", true), "compression negotiation error");
  EXPECT_EQ(bad(std::string(70000, 'a')), "invalid websocket connection");
}

}  // namespace
}  // namespace nats::net::ws::NATS_TEST_FILE_ID
