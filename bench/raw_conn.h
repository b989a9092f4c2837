// A lean NATS client over a plain TCP socket, so that on a 2-core machine the server, not the
// client library, is what the benchmark measures: PUBs are written in large pipelined writes
// and MSG frames are parsed in place from a big read buffer without copying payloads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"

namespace nats::bench {

struct Endpoint {
  std::string host;
  int port = 0;
};

// "nats://127.0.0.1:4222" or "127.0.0.1:4222".
Endpoint parse_url(const std::string& url);

struct MsgView {
  std::string_view subject;
  std::string_view reply;  // empty when none
  std::string_view payload;
};

class RawConn {
 public:
  // Connects, reads INFO, sends CONNECT (verbose off) and a PING, and waits for the PONG.
  RawConn(const std::string& url, Deadline dl);
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  // Writes everything or throws (server gone, or the deadline passed while blocked).
  void write_all(const char* p, size_t n, Deadline dl);
  void write_all(std::string_view s, Deadline dl) { write_all(s.data(), s.size(), dl); }

  // Sends PING and reads until the matching PONG; MSGs read meanwhile go to on_msg.
  template <class OnMsg>
  void round_trip(OnMsg&& on_msg, Deadline dl) {
    write_all("PING\r\n", dl);
    uint64_t want = pongs_ + 1;
    while (pongs_ < want) {
      if (dl.expired()) throw BenchError("timed out waiting for PONG");
      poll(on_msg, dl);
    }
  }
  void round_trip(Deadline dl) {
    round_trip([](const MsgView&) {}, dl);
  }

  // One read (blocking at most ~100 ms) and the dispatch of every complete frame in the
  // buffer. Returns the number of MSGs dispatched. Throws on EOF, socket error or -ERR.
  template <class OnMsg>
  size_t poll(OnMsg&& on_msg, Deadline dl) {
    if (!fill(dl)) return 0;
    size_t n = 0;
    MsgView m;
    for (;;) {
      Frame f = next_frame(m);
      if (f == Frame::kNeedMore) break;
      if (f == Frame::kMsg) {
        on_msg(m);
        ++n;
      }
    }
    return n;
  }

  uint64_t pongs() const { return pongs_; }
  int fd() const { return fd_; }

 private:
  enum class Frame { kNeedMore, kMsg, kOther };
  // Reads what the socket has into the buffer; false when the read timed out with nothing.
  bool fill(Deadline dl);
  Frame next_frame(MsgView& m);
  void read_line_blocking(std::string& line, Deadline dl);

  int fd_ = -1;
  std::vector<char> buf_;
  size_t start_ = 0;
  size_t end_ = 0;
  uint64_t pongs_ = 0;
};

}  // namespace nats::bench
