#include "net/ws_frame.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace nats::net::ws {

namespace {
constexpr unsigned char kFinBit = 0x80;
constexpr unsigned char kRsvBits = 0x70;
constexpr unsigned char kRsv1Bit = 0x40;
constexpr unsigned char kMaskBit = 0x80;

bool is_control(Opcode op) { return (static_cast<uint8_t>(op) & 0x8) != 0; }

// Header bytes needed once the first two are known.
size_t header_size(const unsigned char* h) {
  size_t n = 2;
  uint8_t len7 = h[1] & 0x7F;
  if (len7 == 126) n += 2;
  else if (len7 == 127) n += 8;
  if (h[1] & kMaskBit) n += 4;
  return n;
}
}  // namespace

FrameDecoder::Result FrameDecoder::fail(std::string why) {
  error_ = std::move(why);
  closed_ = true;
  return Result::Error;
}

bool FrameDecoder::reject(std::string why) {
  fail(std::move(why));
  return false;
}

void FrameDecoder::unmask(char* p, size_t n) {
  if (!masked_) return;
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask_[(mask_pos_ + i) & 3]);
  mask_pos_ = (mask_pos_ + n) & 3;
}

bool FrameDecoder::header_complete(size_t& need) {
  const unsigned char b0 = hdr_[0], b1 = hdr_[1];
  need = header_size(hdr_);
  if (hdr_len_ < need) return true;  // more header bytes to come
  op_ = static_cast<Opcode>(b0 & 0x0F);
  bool fin = (b0 & kFinBit) != 0;
  masked_ = (b1 & kMaskBit) != 0;
  // RSV1 means "compressed" once permessage-deflate is agreed, and only on the first frame
  // of a data message; every other reserved bit is an error.
  const bool rsv1 = (b0 & kRsv1Bit) != 0;
  if ((b0 & kRsvBits & ~kRsv1Bit) || (rsv1 && !inflater_))
    return reject("reserved bits set but no extension negotiated");
  if (rsv1 && is_control(op_)) return reject("compressed control frame");
  final_ = fin;
  if (require_mask_ && !masked_) return reject("mask bit missing");
  uint64_t len = b1 & 0x7F;
  size_t p = 2;
  if (len == 126) {
    len = (uint64_t{hdr_[2]} << 8) | hdr_[3];
    p = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | hdr_[2 + i];
    p = 10;
    if (len >> 63) return reject("invalid frame length");
  }
  if (masked_) std::memcpy(mask_, hdr_ + p, 4);
  mask_pos_ = 0;
  remaining_ = len;
  switch (op_) {
    case Opcode::Ping:
    case Opcode::Pong:
    case Opcode::Close:
      if (len > kMaxControlPayload)
        return reject("control frame length bigger than maximum allowed of 125 bytes");
      if (!fin) return reject("control frame does not have final bit set");
      control_.clear();
      break;
    case Opcode::Text:
    case Opcode::Binary:
      if (in_message_)
        return reject("new message started before final frame for previous message was received");
      in_message_ = !fin;
      compressed_ = rsv1;
      break;
    case Opcode::Continuation:
      // As the reference: the compressed bit belongs on the first frame only.
      if (!in_message_ || rsv1) return reject("invalid continuation frame");
      in_message_ = !fin;
      break;
    default:
      return reject("unknown opcode " + std::to_string(static_cast<int>(op_)));
  }
  in_header_ = false;
  return true;
}

bool FrameDecoder::control_complete(FrameSink& sink) {
  switch (op_) {
    case Opcode::Ping: sink.on_ping(control_); break;
    case Opcode::Pong: sink.on_pong(control_); break;
    default: {
      uint16_t status = kNoStatusReceived;
      std::string_view reason;
      if (control_.size() >= 2) {
        status = static_cast<uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                       static_cast<unsigned char>(control_[1]));
        reason = std::string_view(control_).substr(2);
        if (!valid_utf8(reason)) {
          status = kInvalidPayloadData;
          reason = "invalid utf8 body in close frame";
        }
      }
      closed_ = true;
      sink.on_close(status, reason);
      return false;
    }
  }
  return true;
}

FrameDecoder::Result FrameDecoder::feed(char* data, size_t len, FrameSink& sink) {
  if (closed_) return error_.empty() ? Result::Closed : Result::Error;
  size_t pos = 0;
  while (pos < len) {
    if (in_header_) {
      size_t need = 2;
      if (hdr_len_ >= 2) need = header_size(hdr_);
      size_t take = std::min(need - hdr_len_, len - pos);
      std::memcpy(hdr_ + hdr_len_, data + pos, take);
      hdr_len_ += take;
      pos += take;
      if (hdr_len_ < 2) continue;
      if (!header_complete(need)) return Result::Error;
      if (hdr_len_ < need) continue;
      hdr_len_ = 0;
      if (remaining_ > 0) continue;
      // An empty frame: a control frame, or the end of a compressed message.
      in_header_ = true;
      if (is_control(op_)) {
        if (!control_complete(sink)) return Result::Closed;
      } else if (compressed_ && final_) {
        if (Result r = deliver({}, true, sink); r != Result::Ok) return r;
      }
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
    unmask(data + pos, n);
    std::string_view piece(data + pos, n);
    pos += n;
    remaining_ -= n;
    if (remaining_ == 0) in_header_ = true;
    if (is_control(op_)) {
      control_.append(piece);
      if (remaining_ == 0 && !control_complete(sink)) return Result::Closed;
    } else if (n > 0 || (compressed_ && remaining_ == 0 && final_)) {
      if (Result r = deliver(piece, remaining_ == 0 && final_, sink); r != Result::Ok) return r;
    }
  }
  return Result::Ok;
}

FrameDecoder::Result FrameDecoder::deliver(std::string_view piece, bool message_end, FrameSink& sink) {
  if (!compressed_) return sink.on_payload(piece) ? Result::Ok : Result::Stopped;
  auto to_sink = [](void* ctx, std::string_view d) { return static_cast<FrameSink*>(ctx)->on_payload(d); };
  Inflater::Result r = Inflater::Result::Ok;
  if (!piece.empty()) r = inflater_->feed(piece, to_sink, &sink);
  if (r == Inflater::Result::Ok && message_end) {
    compressed_ = false;
    r = inflater_->finish(to_sink, &sink);
  }
  if (r == Inflater::Result::Stopped) return Result::Stopped;
  if (r == Inflater::Result::Error) return fail(inflater_->error());
  return Result::Ok;
}

std::string frame_header(Opcode op, uint64_t len, bool compressed) {
  return fragment_header(op, len, true, true, compressed);
}

std::string fragment_header(Opcode op, uint64_t len, bool first, bool final, bool compressed) {
  std::string h;
  uint8_t b0 = first ? static_cast<uint8_t>(op) : static_cast<uint8_t>(Opcode::Continuation);
  if (first && compressed) b0 |= kRsv1Bit;
  if (final) b0 |= kFinBit;
  h.push_back(static_cast<char>(b0));
  if (len <= 125) {
    h.push_back(static_cast<char>(len));
  } else if (len <= 0xFFFF) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>(len >> 8));
    h.push_back(static_cast<char>(len & 0xFF));
  } else {
    h.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) h.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  }
  return h;
}

std::string control_frame(Opcode op, std::string_view payload, bool masked) {
  payload = payload.substr(0, kMaxControlPayload);
  std::string f;
  if (masked) {
    append_masked_frame(f, op, payload, false);
    return f;
  }
  f = frame_header(op, payload.size());
  f.append(payload);
  return f;
}

void append_masked_frame(std::string& out, Opcode op, std::string_view payload, bool compressed) {
  // The key only has to be unpredictable to whatever sits between the peers (RFC 6455
  // section 10.3); a per-thread generator seeded from the system's entropy is enough.
  thread_local std::mt19937 gen{std::random_device{}()};
  const uint32_t r = gen();
  const unsigned char key[4] = {static_cast<unsigned char>(r), static_cast<unsigned char>(r >> 8),
                                static_cast<unsigned char>(r >> 16), static_cast<unsigned char>(r >> 24)};
  std::string h = frame_header(op, payload.size(), compressed);
  h[1] = static_cast<char>(static_cast<unsigned char>(h[1]) | kMaskBit);
  out.append(h);
  out.append(reinterpret_cast<const char*>(key), 4);
  const size_t at = out.size();
  out.append(payload);
  char* p = out.data() + at;
  for (size_t i = 0; i < payload.size(); ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

std::string close_payload(uint16_t status, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(status >> 8));
  p.push_back(static_cast<char>(status & 0xFF));
  if (reason.size() > kMaxControlPayload - 2) {
    p.append(reason.substr(0, kMaxControlPayload - 5));
    p.append("...");
  } else {
    p.append(reason);
  }
  return p;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace nats::net::ws
