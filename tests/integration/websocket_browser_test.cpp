// A real browser over WebSocket: headless Chromium (Debian's `chromium`) loads a page that
// speaks the NATS protocol in binary frames: it connects, subscribes, publishes to its own
// subscription and, once its message came back, publishes "ok" (and the agreed extensions)
// to a subject this test watches over TCP. Plain and with permessage-deflate
// (`compression: true`; Chromium always offers it). Skipped, saying so, when chromium is
// not installed.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "ws_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

std::string wsb_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

// The page: raw NATS over a WebSocket, no client library. Text goes out as binary frames
// (Uint8Array), as nats.ws sends it.
std::string wsb_page(int ws_port) {
  return R"(<!doctype html><html><body><script>
const enc = new TextEncoder(), dec = new TextDecoder();
const ws = new WebSocket("ws://127.0.0.1:)" + std::to_string(ws_port) + R"(");
ws.binaryType = "arraybuffer";
let got = "", state = "info";
const send = (s) => ws.send(enc.encode(s));
ws.onmessage = (e) => {
  got += dec.decode(e.data);
  if (state === "info" && got.includes("INFO ")) {
    state = "wait";
    send('CONNECT {"verbose":false,"pedantic":false,"protocol":1,"name":"browser"}\r\nSUB browser.echo 1\r\nPUB browser.echo 5\r\nhello\r\nPING\r\n');
  }
  if (state === "wait" && got.includes("MSG browser.echo 1 5\r\nhello\r\n")) {
    state = "done";
    // "ok" and the extensions the server agreed to (permessage-deflate or none).
    const result = "ok " + ws.extensions;
    send("PUB browser.result " + enc.encode(result).length + "\r\n" + result + "\r\nPING\r\n");
  }
};
</script></body></html>
)";
}

// Runs chromium headless on `url` until the returned guard goes.
struct WsbBrowser {
  pid_t pid = -1;
  WsbBrowser(const std::string& bin, const std::string& url, const std::string& profile) {
    pid = fork();
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        dup2(devnull, 1);
        dup2(devnull, 2);
      }
      std::string prof = "--user-data-dir=" + profile;
      execl(bin.c_str(), bin.c_str(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-dev-shm-usage", "--remote-debugging-port=0", prof.c_str(), url.c_str(), (char*)nullptr);
      _exit(127);
    }
  }
  ~WsbBrowser() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
  }
};

class WebsocketBrowser : public ::testing::TestWithParam<bool> {};

TEST_P(WebsocketBrowser, ChromiumConnectsSubscribesAndPublishes) {
  const std::string chromium = wsb_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (Debian package `chromium`): browser test skipped";
  const bool compression = GetParam();
  int ws_port = testing_harness::free_port();
  auto s = start_with_config(ws_config(ws_port, compression ? "  compression: true\n" : ""));
  ConnPtr nc;
  ASSERT_EQ(connect_url(nc, s->url()), NATS_OK);
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, nc.p, "browser.result"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc.p), NATS_OK);
  testing_harness::TempDir dir;
  std::string page = dir.write("page.html", wsb_page(ws_port));
  testing_harness::TempDir profile;
  WsbBrowser browser(chromium, "file://" + page, profile.path());
  ASSERT_GT(browser.pid, 0);
  MsgPtr m;
  // Chromium's start is slow on a loaded machine: a generous deadline.
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 20000), NATS_OK) << "no result from the browser";
  const std::string got = m.data();
  EXPECT_EQ(got.rfind("ok ", 0), 0u) << got;
  EXPECT_EQ(got.find("permessage-deflate") != std::string::npos, compression) << got;
}

INSTANTIATE_TEST_SUITE_P(Compression, WebsocketBrowser, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Deflate" : "Plain"; });

}  // namespace

}  // namespace NATS_TEST_FILE_ID
