// The URL resolver's HTTP pieces: base URLs it accepts (http:// with a host, optional port),
// and responses it reads (Content-Length, chunked, read to the close; cut or garbled ones
// refused), plus a fetch from a closed port failing at once with a connection error.
#include "server/url_account_fetcher.h"

#include <gtest/gtest.h>

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

TEST(UrlAccountFetcher, ParsesHttpUrls) {
  HttpUrl u;
  ASSERT_TRUE(parse_http_url("http://127.0.0.1:8080/jwt/v1/accounts/ABC", u));
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path, "/jwt/v1/accounts/ABC");
  ASSERT_TRUE(parse_http_url("HTTP://example.com", u));
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.path, "/");
  ASSERT_TRUE(parse_http_url("http://[::1]:9/x", u));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9);
  ASSERT_TRUE(parse_http_url("https://h/x", u));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  ASSERT_TRUE(parse_http_url("HTTPS://h:8443", u));
  EXPECT_EQ(u.port, 8443);
  ASSERT_TRUE(parse_http_url("http://h", u));
  EXPECT_FALSE(u.tls);
  for (const char* bad : {"ftp://h/", "h:80/x", "http://", "http://:80/", "http://h:0/", "http://h:99999/",
                          "http://h:8a/", "http://u:p@h/", "http://[::1/"})
    EXPECT_FALSE(parse_http_url(bad, u)) << bad;
}

TEST(UrlAccountFetcher, ReadsResponses) {
  int status = 0;
  std::string text, body;
  ASSERT_TRUE(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef", status, text, body));
  EXPECT_EQ(status, 200);
  EXPECT_EQ(text, "OK");
  EXPECT_EQ(body, "abc");
  ASSERT_TRUE(parse_http_response("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
                                  status, text, body));
  EXPECT_EQ(body, "abcde");
  ASSERT_TRUE(parse_http_response("HTTP/1.0 404 Not Found\r\n\r\ngone", status, text, body));
  EXPECT_EQ(status, 404);
  EXPECT_EQ(text, "Not Found");
  EXPECT_EQ(body, "gone");
  for (const char* bad : {"", "HTTP/1.1 200 OK\r\n", "SSH-2.0\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"})
    EXPECT_FALSE(parse_http_response(bad, status, text, body)) << bad;
}

TEST(UrlAccountFetcher, ClosedPortFailsWithConnectionError) {
  // Port 1 on loopback: nothing listens there in a test environment.
  UrlAccountFetcher f("http://127.0.0.1:1/accounts", std::chrono::milliseconds(1900));
  EXPECT_EQ(f.base_url(), "http://127.0.0.1:1/accounts/");
  auto r = f.get("ABC");
  EXPECT_TRUE(r.jwt.empty());
  EXPECT_EQ(r.error.rfind("could not fetch <\"http://127.0.0.1:1/accounts/ABC\">: ", 0), 0u) << r.error;
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
