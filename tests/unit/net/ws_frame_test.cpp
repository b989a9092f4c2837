#include "net/ws_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::net::ws::NATS_TEST_FILE_ID {
namespace {

struct Recorder : FrameSink {
  std::string data;
  std::vector<std::string> pings, pongs;
  int close_status = -1;
  std::string close_reason;
  bool on_payload(std::string_view d) override {
    data.append(d);
    return true;
  }
  void on_ping(std::string_view p) override { pings.emplace_back(p); }
  void on_pong(std::string_view p) override { pongs.emplace_back(p); }
  void on_close(uint16_t s, std::string_view r) override {
    close_status = s;
    close_reason = std::string(r);
  }
};

// A client frame: masked with a fixed key unless mask is false.
std::string client_frame(uint8_t first_byte, std::string_view payload, bool mask = true) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  uint64_t len = payload.size();
  uint8_t m = mask ? 0x80 : 0;
  if (len <= 125) {
    f.push_back(static_cast<char>(m | len));
  } else if (len <= 0xFFFF) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(len >> 8));
    f.push_back(static_cast<char>(len & 0xFF));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (mask) f.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(mask ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
  return f;
}

FrameDecoder::Result feed_all(FrameDecoder& d, std::string bytes, Recorder& r, size_t step = 0) {
  if (step == 0) return d.feed(bytes.data(), bytes.size(), r);
  FrameDecoder::Result res = FrameDecoder::Result::Ok;
  for (size_t i = 0; i < bytes.size() && res == FrameDecoder::Result::Ok; i += step)
    res = d.feed(bytes.data() + i, std::min(step, bytes.size() - i), r);
  return res;
}

TEST(WsFrameDecoder, UnmasksBinaryFramesOfEveryLengthEncoding) {
  for (size_t len : {0ul, 5ul, 125ul, 126ul, 70000ul}) {
    std::string payload(len, 'x');
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>('a' + i % 26);
    FrameDecoder d;
    Recorder r;
    EXPECT_EQ(feed_all(d, client_frame(0x82, payload), r), FrameDecoder::Result::Ok);
    EXPECT_EQ(r.data, payload) << len;
  }
}

TEST(WsFrameDecoder, SameResultWhenSplitAtEveryByte) {
  std::string bytes = client_frame(0x02, "PUB foo 5\r\n") + client_frame(0x89, "hi") + client_frame(0x80, "hello\r\n") +
                      client_frame(0x81, std::string(300, 'z'));
  for (size_t step : {1ul, 2ul, 3ul, 7ul}) {
    FrameDecoder d;
    Recorder r;
    EXPECT_EQ(feed_all(d, bytes, r, step), FrameDecoder::Result::Ok);
    EXPECT_EQ(r.data, "PUB foo 5\r\nhello\r\n" + std::string(300, 'z'));
    ASSERT_EQ(r.pings.size(), 1u);
    EXPECT_EQ(r.pings[0], "hi");
  }
}

TEST(WsFrameDecoder, CloseFrameReportsStatusAndReason) {
  FrameDecoder d;
  Recorder r;
  EXPECT_EQ(feed_all(d, client_frame(0x88, close_payload(1001, "bye")) + client_frame(0x82, "late"), r),
            FrameDecoder::Result::Closed);
  EXPECT_EQ(r.close_status, 1001);
  EXPECT_EQ(r.close_reason, "bye");
  EXPECT_EQ(r.data, "");
}

TEST(WsFrameDecoder, CloseWithoutStatusAndWithBadUtf8) {
  {
    FrameDecoder d;
    Recorder r;
    feed_all(d, client_frame(0x88, ""), r);
    EXPECT_EQ(r.close_status, kNoStatusReceived);
  }
  FrameDecoder d;
  Recorder r;
  feed_all(d, client_frame(0x88, close_payload(1000, "\xff\xfe")), r);
  EXPECT_EQ(r.close_status, kInvalidPayloadData);
}

TEST(WsFrameDecoder, ProtocolErrors) {
  struct Case {
    std::string bytes, why;
  } cases[] = {
      {client_frame(0x82, "x", false), "mask bit missing"},
      {client_frame(0xC2, "x"), "reserved bits set but no extension negotiated"},
      {client_frame(0x89, std::string(126, 'p')), "control frame length bigger than maximum allowed of 125 bytes"},
      {client_frame(0x09, "p"), "control frame does not have final bit set"},
      {client_frame(0x02, "a") + client_frame(0x82, "b"),
       "new message started before final frame for previous message was received"},
      {client_frame(0x80, "a"), "invalid continuation frame"},
      {client_frame(0x83, "a"), "unknown opcode 3"},
  };
  for (auto& c : cases) {
    FrameDecoder d;
    Recorder r;
    EXPECT_EQ(feed_all(d, c.bytes, r), FrameDecoder::Result::Error) << c.why;
    EXPECT_EQ(d.error(), c.why);
    std::string more = client_frame(0x82, "x");
    EXPECT_EQ(d.feed(more.data(), more.size(), r), FrameDecoder::Result::Error);
  }
}

TEST(WsFrameDecoder, UnmaskedAllowedWhenNotRequired) {
  FrameDecoder d(false);
  Recorder r;
  EXPECT_EQ(feed_all(d, client_frame(0x82, "plain", false), r), FrameDecoder::Result::Ok);
  EXPECT_EQ(r.data, "plain");
}

TEST(WsFrameEncoder, HeadersForEachLengthEncoding) {
  EXPECT_EQ(frame_header(Opcode::Binary, 5), std::string("\x82\x05", 2));
  EXPECT_EQ(frame_header(Opcode::Binary, 126), std::string("\x82\x7e\x00\x7e", 4));
  EXPECT_EQ(frame_header(Opcode::Binary, 65536), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(control_frame(Opcode::Pong, "hi"), std::string("\x8a\x02hi", 4));
  EXPECT_EQ(control_frame(Opcode::Ping, std::string(200, 'a')).size(), 2u + kMaxControlPayload);
}

TEST(WsFrameEncoder, ClosePayloadIsCutWithEllipsis) {
  EXPECT_EQ(close_payload(1000, "ok"), std::string("\x03\xe8ok", 4));
  std::string p = close_payload(1002, std::string(200, 'r'));
  EXPECT_EQ(p.size(), kMaxControlPayload);
  EXPECT_EQ(p.substr(p.size() - 3), "...");
}

TEST(WsUtf8, ValidAndInvalid) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xc3"));
  EXPECT_FALSE(valid_utf8("\xc0\x80"));          // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}


// What a soliciting leaf sends: masked frames (a fresh key each) that the listener's
// decoder, which requires masking, unmasks back.
TEST(WsFrameDecoder, DecodesMaskedFramesOfTheDialingSide) {
  std::string wire;
  std::string big(70000, 'z');
  append_masked_frame(wire, Opcode::Binary, "hello", false);
  append_masked_frame(wire, Opcode::Binary, big, false);
  wire += control_frame(Opcode::Ping, "p", true);
  EXPECT_EQ(wire.find("hello"), std::string::npos);  // masked on the wire
  FrameDecoder d(true);
  Recorder r;
  ASSERT_EQ(d.feed(wire.data(), wire.size(), r), FrameDecoder::Result::Ok) << d.error();
  EXPECT_EQ(r.data, "hello" + big);
  ASSERT_EQ(r.pings.size(), 1u);
  EXPECT_EQ(r.pings[0], "p");
}

}  // namespace
}  // namespace nats::net::ws::NATS_TEST_FILE_ID
