#include "net/http_request.h"

#include <gtest/gtest.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::net::http::NATS_TEST_FILE_ID {
namespace {

ParseResult parse(const std::string& s, Request& r) { return parse_request(s, r); }

TEST(HttpRequest, ParsesRequestLineHeadersAndQuery) {
  Request r;
  std::string s = "GET /con%6Ez?subs=1&sort=bytes_to HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\nGET /";
  auto p = parse(s, r);
  ASSERT_EQ(p.status, ParseResult::Complete) << p.response;
  EXPECT_EQ(p.head_size, s.size() - 5);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/connz");
  EXPECT_EQ(r.raw_query, "subs=1&sort=bytes_to");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.head);
  auto q = parse_query(r.raw_query);
  EXPECT_EQ(query_get(q, "subs"), "1");
  EXPECT_EQ(query_get(q, "sort"), "bytes_to");
  EXPECT_EQ(query_get(q, "none"), "");
}

TEST(HttpRequest, IncompleteUntilTheBlankLineAndBareLfAccepted) {
  Request r;
  EXPECT_EQ(parse("GET /varz HTTP/1.1\r\nHost: x\r\n", r).status, ParseResult::Incomplete);
  EXPECT_EQ(parse("GET /varz HTTP/1.1\nHost: x\n\n", r).status, ParseResult::Complete);
  EXPECT_EQ(parse("\r\n\r\nGET /varz HTTP/1.1\r\nHost: x\r\n\r\n", r).status, ParseResult::Complete);
}

TEST(HttpRequest, KeepAliveByVersionAndConnectionHeader) {
  Request r;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", r).status, ParseResult::Complete);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", r).status, ParseResult::Complete);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_EQ(parse("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n", r).status, ParseResult::Complete);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(r.head);
}

TEST(HttpRequest, AbsoluteFormTarget) {
  Request r;
  ASSERT_EQ(parse("GET http://h:8222/varz?a=b HTTP/1.1\r\nHost: x\r\n\r\n", r).status, ParseResult::Complete);
  EXPECT_EQ(r.path, "/varz");
  EXPECT_EQ(r.raw_query, "a=b");
  ASSERT_EQ(parse("GET http://h:8222 HTTP/1.1\r\nHost: x\r\n\r\n", r).status, ParseResult::Complete);
  EXPECT_EQ(r.path, "/");
}

// The answers Go's server gives (the reference's monitor), checked against 2.9.10 by hand.
TEST(HttpRequest, MalformedRequestsGetGosAnswers) {
  Request r;
  auto p = parse("garbage\r\n\r\n", r);
  ASSERT_EQ(p.status, ParseResult::Error);
  EXPECT_EQ(p.code, 400);
  EXPECT_EQ(p.response.rfind("HTTP/1.1 400 Bad Request", 0), 0u);
  EXPECT_NE(p.response.find("Connection: close\r\n"), std::string::npos);
  p = parse("GET /varz HTTP/1.1\r\n\r\n", r);
  EXPECT_EQ(p.response,
            "HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\n\r\n400 Bad Request: missing required Host header");
  EXPECT_EQ(parse("GET /varz HTTP/2.0\r\nHost: x\r\n\r\n", r).code, 505);
  EXPECT_EQ(parse("GET /varz HTTP/1.1\r\nHost: x\r\nbadheader\r\n\r\n", r).code, 400);
  EXPECT_EQ(parse("GET /varz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", r).code, 400);
  EXPECT_EQ(parse("GET /varz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", r).code, 400);
  EXPECT_EQ(parse("GET /v%zz HTTP/1.1\r\nHost: x\r\n\r\n", r).code, 400);
  EXPECT_EQ(parse("GET varz HTTP/1.1\r\nHost: x\r\n\r\n", r).code, 400);
  EXPECT_EQ(parse("G(T /varz HTTP/1.1\r\nHost: x\r\n\r\n", r).code, 400);
  EXPECT_EQ(parse("GET /varz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", r).code, 501);
}

TEST(HttpRequest, OversizedHeadIs431) {
  Request r;
  std::string big = "GET /varz HTTP/1.1\r\nHost: x\r\nX: " + std::string(kMaxHeaderBytes, 'a');
  EXPECT_EQ(parse(big, r).code, 431);
  EXPECT_EQ(parse(big + "\r\n\r\n", r).code, 431);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: x\r\n", r, 10).code, 431);
}

TEST(HttpRequest, BodiesLengthAndChunked) {
  Request r;
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n", r).status, ParseResult::Complete);
  EXPECT_EQ(r.content_length, 12u);
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nTransfer-Encoding: chunked\r\n\r\n", r).status,
            ParseResult::Complete);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.content_length, 0u);
}

TEST(HttpRequest, FindHeadEndAcrossPieces) {
  std::string s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(find_head_end(s), s.size());
  // from: how much an earlier call saw without finding the end (so never all of it).
  for (size_t from = 0; from < s.size(); ++from) EXPECT_EQ(find_head_end(s, from), s.size()) << from;
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n"), std::string_view::npos);
}

TEST(HttpRequest, QueryDecodingAsGo) {
  auto q = parse_query("a=1+2&b=%41&bad=%zz&c&semi;x=1&&a=second");
  EXPECT_EQ(query_get(q, "a"), "1 2");
  EXPECT_EQ(query_get(q, "b"), "A");
  EXPECT_EQ(q.count("bad"), 0u);
  EXPECT_EQ(q.count("c"), 1u);
  EXPECT_EQ(q.count("semi;x"), 0u);
  EXPECT_EQ(q.count("a"), 2u);
}

TEST(HttpRequest, CleanPathAsServeMux) {
  EXPECT_EQ(clean_path("/varz"), "/varz");
  EXPECT_EQ(clean_path("//varz"), "/varz");
  EXPECT_EQ(clean_path("/a/../varz"), "/varz");
  EXPECT_EQ(clean_path("/./varz/"), "/varz/");
  EXPECT_EQ(clean_path("/.."), "/");
  EXPECT_EQ(clean_path("/"), "/");
}

TEST(HttpRequest, RenderResponse) {
  Request r;
  r.minor = 1;
  std::string s = render_response(200, "application/json", "{}", r);
  EXPECT_EQ(s.rfind("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: ", 0), 0u);
  EXPECT_NE(s.find("\r\nContent-Length: 2\r\n\r\n{}"), std::string::npos);
  EXPECT_EQ(s.find("Connection:"), std::string::npos);
  r.head = true;
  r.keep_alive = false;
  s = render_response(200, "application/json", "{}", r);
  EXPECT_NE(s.find("Content-Length: 2\r\nConnection: close\r\n\r\n"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 4), "\r\n\r\n");
}

}  // namespace
}  // namespace nats::net::http::NATS_TEST_FILE_ID
