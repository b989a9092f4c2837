// Fuzz target: every `$JS.API` request type, end to end through a real JetStream server.
// One server (JetStream on, client port picked by the kernel, store in a temp dir) runs in
// this process; each input is published into it as an internal message, which dispatches
// synchronously to the request handlers: stream and consumer CRUD, names/list paging,
// purge, message get/delete, direct get, pull requests (CONSUMER.MSG.NEXT), plain
// publishes into a stream (with Nats-* headers) and acks.
//
// Input: byte 0 picks the request, byte 1 the stream/consumer names used in the subject,
// byte 2 how many of the remaining bytes are headers; the rest is the body. State (streams,
// consumers, messages) carries over between inputs, as it would on a real server, so a
// create followed by a get is reachable; a small account limit keeps it bounded.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/command_line.h"
#include "server/server.h"
#include "util/log.h"

namespace {

constexpr const char* kRequests[] = {
    "$JS.API.INFO",
    "$JS.API.STREAM.CREATE.{s}",
    "$JS.API.STREAM.UPDATE.{s}",
    "$JS.API.STREAM.INFO.{s}",
    "$JS.API.STREAM.DELETE.{s}",
    "$JS.API.STREAM.NAMES",
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.PURGE.{s}",
    "$JS.API.STREAM.MSG.GET.{s}",
    "$JS.API.STREAM.MSG.DELETE.{s}",
    "$JS.API.DIRECT.GET.{s}",
    "$JS.API.DIRECT.GET.{s}.fz.a",
    "$JS.API.CONSUMER.CREATE.{s}",
    "$JS.API.CONSUMER.CREATE.{s}.{c}",
    "$JS.API.CONSUMER.CREATE.{s}.{c}.fz.a",
    "$JS.API.CONSUMER.DURABLE.CREATE.{s}.{c}",
    "$JS.API.CONSUMER.INFO.{s}.{c}",
    "$JS.API.CONSUMER.DELETE.{s}.{c}",
    "$JS.API.CONSUMER.NAMES.{s}",
    "$JS.API.CONSUMER.LIST.{s}",
    "$JS.API.CONSUMER.MSG.NEXT.{s}.{c}",
    "$JS.ACK.{s}.{c}.1.1.1.0.0",
    "fz.a",
    "fz.b.c",
};
constexpr const char* kStreams[] = {"S", "T", "fz", "S.X", "*"};
constexpr const char* kConsumers[] = {"C", "D", "", ">"};

std::string expand(std::string_view tmpl, uint8_t names) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl.substr(i, 3) == "{s}") {
      out += kStreams[(names & 15) % std::size(kStreams)];
      i += 2;
    } else if (tmpl.substr(i, 3) == "{c}") {
      out += kConsumers[(names >> 4) % std::size(kConsumers)];
      i += 2;
    } else {
      out.push_back(tmpl[i]);
    }
  }
  return out;
}

nats::Server& server() {
  static nats::Server* srv = [] {
    // Under $TMPDIR, which scripts/fuzz.sh points at a directory it removes afterwards.
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/fuzz_js_api.XXXXXX";
    if (!::mkdtemp(dir.data())) std::abort();
    static std::string store_dir = dir;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(store_dir, ec);
    });
    nats::config::CommandLine cl;
    std::string err;
    const std::vector<std::string> args = {"-a", "127.0.0.1", "-p", "0", "-js", "-sd", dir};
    if (!nats::config::parse_command_line(args, cl, err)) std::abort();
    nats::Options o = nats::config::build_options(cl);
    o.jetstream.max_memory = 32 << 20;
    o.jetstream.max_file = 32 << 20;
    nats::log::Settings ls;
    ls.file = "/dev/null";
    nats::log::configure(ls);
    auto* s = new nats::Server(o);  // lives for the whole process, like the real one
    s->start();
    return s;
  }();
  return *srv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  nats::Server& srv = server();
  const std::string subject = expand(kRequests[data[0] % std::size(kRequests)], data[1]);
  std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  const size_t hlen = std::min<size_t>(data[2], rest.size());
  std::string_view headers = rest.substr(0, hlen);
  std::string_view body = rest.substr(hlen);
  // A reply subject nobody listens on: handlers build and send their full answer.
  srv.publish_internal(*srv.global_account(), subject, "_INBOX.fuzz", headers, body);
  return 0;
}
