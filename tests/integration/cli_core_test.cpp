// Integration tests for the `nats` CLI (src/cli): contexts, pub/sub/request/reply, errors, and
// `server list` / `server report jetstream` over the system account. Each test gives the CLI
// its own HOME/XDG_CONFIG_HOME. Core tests run against server_binary() (ours, or the
// reference via NATS_TEST_SERVER_BIN); the supercluster test needs the reference server.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "harness.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

#ifdef NATS_CLI_BIN
using namespace testing_harness;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private config home and a way to run the CLI in it.
class CliHome {
 public:
  CliHome() { std::filesystem::create_directories(dir_.path() + "/cfg"); }
  std::string cfg() const { return dir_.path() + "/cfg"; }
  std::string env() const {
    return "env -u NATS_URL -u NATS_USER -u NATS_PASSWORD -u NATS_CREDS -u NATS_CONTEXT HOME=" + dir_.path() +
           " XDG_CONFIG_HOME=" + cfg() + " ";
  }
  CommandResult run(const std::string& args) const { return run_command(env() + NATS_CLI_BIN + " " + args); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

// A CLI process left running in the background (sub, reply), output captured to a file.
class Background {
 public:
  Background(const CliHome& home, const std::string& args) : out_(home.dir().path() + "/bg" + std::to_string(++seq_) + ".out") {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      std::string cmd = "exec " + home.env() + NATS_CLI_BIN + " " + args + " > " + out_ + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool wait_for(const std::string& text, int ms = 5000) const {
    for (int i = 0; i < ms / 20; ++i) {
      if (output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Waits for exit; returns the exit code or -1.
  int wait_exit(int ms = 5000) {
    for (int i = 0; i < ms / 20; ++i) {
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  std::string output() const { return slurp(out_); }

 private:
  static inline int seq_ = 0;
  std::string out_;
  pid_t pid_ = -1;
};

int count_of(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Every line of a rendered box table has the same display width.
void expect_boxes_aligned(const std::string& out) {
  std::stringstream ss(out);
  size_t width = 0;
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("╭", 0) == 0) width = 0;
    if (line.rfind("╭", 0) != 0 && line.rfind("│", 0) != 0 && line.rfind("├", 0) != 0 && line.rfind("╰", 0) != 0) continue;
    size_t w = 0;
    for (unsigned char c : line) if ((c & 0xC0) != 0x80) ++w;
    if (width == 0) width = w;
    EXPECT_EQ(w, width) << "misaligned line: " << line;
  }
}

std::string sys_conf(const TempDir& d, const std::string& extra = "") {
  return d.write("sys.conf", "accounts: { $SYS: { users: [{user: sys, password: pass}] } }\n" + extra);
}

}  // namespace

TEST(CliContext, SaveWritesNatscliLayoutAndSelects) {
  CliHome h;
  auto r = h.run("context save east-sys --server nats://127.0.0.1:4999 --user sys --password pass "
                 "--description 'East system' --select");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("NATS Configuration Context \"east-sys\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  Description: East system\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  Server URLs: nats://127.0.0.1:4999\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("     Username: sys\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("     Password: ****\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("         Path: " + h.cfg() + "/nats/context/east-sys.json"), std::string::npos) << r.output;

  auto j = nlohmann::json::parse(slurp(h.cfg() + "/nats/context/east-sys.json"));
  EXPECT_EQ(j["url"], "nats://127.0.0.1:4999");
  EXPECT_EQ(j["user"], "sys");
  EXPECT_EQ(j["password"], "pass");
  EXPECT_EQ(j["description"], "East system");
  for (auto k : {"token", "creds", "nkey", "cert", "key", "ca", "nsc", "jetstream_domain", "jetstream_api_prefix",
                 "jetstream_event_prefix", "inbox_prefix", "user_jwt", "color_scheme"})
    EXPECT_EQ(j[k], "") << k;
  EXPECT_EQ(j["tls_first"], false);
  EXPECT_EQ(slurp(h.cfg() + "/nats/context.txt"), "east-sys");

  // A user without a password is stored as a token, as natscli does.
  ASSERT_EQ(h.run("context save tok --server nats://x:1 --user s3cret").status, 0);
  auto t = nlohmann::json::parse(slurp(h.cfg() + "/nats/context/tok.json"));
  EXPECT_EQ(t["token"], "s3cret");
  EXPECT_EQ(t["user"], "");
}

TEST(CliContext, ListSelectInfoRemove) {
  CliHome h;
  EXPECT_NE(h.run("context ls").output.find("No known contexts"), std::string::npos);
  ASSERT_EQ(h.run("context save a --server nats://127.0.0.1:1 --description first").status, 0);
  ASSERT_EQ(h.run("context save b --server nats://127.0.0.1:2").status, 0);
  ASSERT_EQ(h.run("context select b").status, 0);
  auto ls = h.run("context ls");
  ASSERT_EQ(ls.status, 0);
  EXPECT_NE(ls.output.find("Known Contexts"), std::string::npos) << ls.output;
  EXPECT_NE(ls.output.find("│ a    │ first       │"), std::string::npos) << ls.output;
  EXPECT_NE(ls.output.find("│ b*   │"), std::string::npos) << ls.output;
  expect_boxes_aligned(ls.output);
  EXPECT_EQ(h.run("context ls --names").output, "a\nb\n");

  auto info = h.run("context info --json");  // selected one
  ASSERT_EQ(info.status, 0);
  EXPECT_EQ(nlohmann::json::parse(info.output)["url"], "nats://127.0.0.1:2");

  auto bad = h.run("context select nope");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("nats: error: unknown context \"nope\""), std::string::npos) << bad.output;
  EXPECT_NE(h.run("context rm a").status, 0);  // needs --force without a terminal
  auto active = h.run("context rm b -f");
  EXPECT_NE(active.status, 0);
  EXPECT_NE(active.output.find("cannot remove the current active context"), std::string::npos);
  ASSERT_EQ(h.run("context rm a -f").status, 0);
  EXPECT_FALSE(std::filesystem::exists(h.cfg() + "/nats/context/a.json"));
}

TEST(CliMessaging, PubSubHeadersTemplatesAndContexts) {
  ServerProcess s;
  s.start();
  CliHome h;
  ASSERT_EQ(h.run("context save local --server " + s.url() + " --select").status, 0);
  Background sub(h, "sub 't.>' --count 2");
  ASSERT_TRUE(sub.wait_for("Subscribing on t.>")) << sub.output();
  auto pub = h.run("pub t.a 'msg {{Count}} {{.Count}}' --count 2 -H 'x:y'");
  ASSERT_EQ(pub.status, 0) << pub.output;
  EXPECT_EQ(count_of(pub.output, "Published 7 bytes to \"t.a\""), 2) << pub.output;
  ASSERT_EQ(sub.wait_exit(), 0);
  std::string out = sub.output();
  EXPECT_NE(out.find("[#1] Received on \"t.a\"\nx: y\n\nmsg 1 1\n\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[#2] Received on \"t.a\"\nx: y\n\nmsg 2 2\n\n"), std::string::npos) << out;

  // --raw shows bodies only; --reply is passed through.
  Background raw(h, "sub raw.x --raw --count 1");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(h.run("pub raw.x hello --reply r.1").status, 0);
  ASSERT_EQ(raw.wait_exit(), 0);
  EXPECT_EQ(raw.output(), "hello\n");
}

TEST(CliMessaging, RequestReplyBodyCommandAndQueue) {
  ServerProcess s;
  s.start();
  CliHome h;
  Background rep(h, "-s " + s.url() + " reply greet 'hello {{.Request}}' --count 1");
  ASSERT_TRUE(rep.wait_for("Listening on \"greet\" in group \"NATS-RPLY-22\"")) << rep.output();
  auto req = h.run("-s " + s.url() + " request greet bob -H q:1");
  ASSERT_EQ(req.status, 0) << req.output;
  std::regex sending(R"(\d\d:\d\d:\d\d Sending request on "greet"\n)");
  std::regex received(R"(\d\d:\d\d:\d\d Received with rtt [0-9.]+(ns|µs|ms|s)\n)");
  EXPECT_TRUE(std::regex_search(req.output, sending)) << req.output;
  EXPECT_TRUE(std::regex_search(req.output, received)) << req.output;
  EXPECT_NE(req.output.find("hello bob\n\n\n"), std::string::npos) << req.output;
  ASSERT_EQ(rep.wait_exit(), 0);
  EXPECT_NE(rep.output().find("[#0] Received on subject \"greet\":"), std::string::npos) << rep.output();
  EXPECT_NE(rep.output().find(" q: 1\n"), std::string::npos) << rep.output();

  Background cmd(h, "-s " + s.url() + " reply 'svc.>' --command 'echo got {{1}}' --count 1");
  ASSERT_TRUE(cmd.wait_for("Listening on")) << cmd.output();
  auto r2 = h.run("-s " + s.url() + " request svc.weather '' --raw");
  ASSERT_EQ(r2.status, 0) << r2.output;
  EXPECT_EQ(r2.output, "got weather\n\n");
}

TEST(CliErrors, OneClearLineAndNonZeroExit) {
  ServerProcess s;
  s.start();
  CliHome h;
  auto nr = h.run("-s " + s.url() + " --timeout 1s request nobody.home x");
  EXPECT_NE(nr.status, 0);
  EXPECT_NE(nr.output.find("nats: error: nats: no responders available for request\n"), std::string::npos) << nr.output;

  Background silent(h, "-s " + s.url() + " sub quiet.svc");  // interest, but never replies
  ASSERT_TRUE(silent.wait_for("Subscribing on quiet.svc"));
  auto to = h.run("-s " + s.url() + " --timeout 300ms request quiet.svc x");
  EXPECT_NE(to.status, 0);
  EXPECT_NE(to.output.find("nats: error: nats: timeout\n"), std::string::npos) << to.output;

  auto down = h.run("-s nats://127.0.0.1:" + std::to_string(free_port()) + " pub a b");
  EXPECT_NE(down.status, 0);
  EXPECT_EQ(down.output, "nats: error: nats: no servers available for connection\n");

  ServerProcess auth({"--user", "u", "--pass", "p"});
  auth.start();
  auto bad = h.run("-s " + auth.url() + " --user u --password wrong pub a b");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("nats: error: nats: Authorization Violation"), std::string::npos) << bad.output;
  EXPECT_EQ(h.run("-s " + auth.url() + " --user u --password p pub a b").status, 0);

  auto unknown = h.run("--bogus pub a b");
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.output.find("nats: error: unknown long flag '--bogus'"), std::string::npos);

  auto help = h.run("server list --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("usage: nats server list"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--sort"), std::string::npos);
  EXPECT_EQ(h.run("--help").status, 0);
}

TEST(CliServer, ListNeedsSystemAccountAndRendersOverview) {
  TempDir d;
  ServerProcess s({"-c", sys_conf(d, "server_name: solo\n")});
  s.start();
  CliHome h;
  auto denied = h.run("-s " + s.url() + " --timeout 2s server list");
  EXPECT_NE(denied.status, 0);
  EXPECT_NE(denied.output.find("server request failed, ensure the account used has system privileges and appropriate "
                               "permissions"), std::string::npos) << denied.output;

  auto ok = h.run("-s " + s.url() + " --user sys --password pass server list");
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("Server Overview"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("│ Name │ Cluster │ Host │ Version │ JS │ Conns │ Subs │ Routes │ GWs │ Mem"), std::string::npos)
      << ok.output;
  EXPECT_NE(ok.output.find("│ solo │"), std::string::npos) << ok.output;
  EXPECT_EQ(ok.output.find("Cluster Overview"), std::string::npos);  // no cluster configured
  expect_boxes_aligned(ok.output);

  auto js = h.run("-s " + s.url() + " --user sys --password pass server list --json");
  ASSERT_EQ(js.status, 0);
  auto arr = nlohmann::json::parse(js.output);
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["server"]["name"], "solo");
}

// The natsbyexample supercluster: three single-node clusters joined by gateways.
TEST(CliServer, SuperclusterListAndJetStreamReport) {
  if (!reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  TempDir d;
  sys_conf(d);
  int gw[3], rt[3];
  for (int i = 0; i < 3; ++i) { gw[i] = free_port(); rt[i] = free_port(); }
  const char* names[3] = {"east", "central", "west"};
  std::string gws;
  for (int i = 0; i < 3; ++i)
    gws += std::string("{name: ") + names[i] + ", urls: [\"nats://127.0.0.1:" + std::to_string(gw[i]) + "\"]},";
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (int i = 0; i < 3; ++i) {
    std::string conf = "server_name: n" + std::to_string(i + 1) + "\ninclude sys.conf\n" +
                       "jetstream: { store_dir: \"" + d.path() + "/js" + std::to_string(i) + "\" }\n" +
                       "cluster: { name: " + names[i] + ", host: 127.0.0.1, port: " + std::to_string(rt[i]) +
                       ", routes: [\"nats-route://127.0.0.1:" + std::to_string(rt[i]) + "\"] }\n" +
                       "gateway: { name: " + names[i] + ", host: 127.0.0.1, port: " + std::to_string(gw[i]) +
                       ", gateways: [" + gws + "] }\n";
    servers.push_back(std::make_unique<ServerProcess>(
        std::vector<std::string>{"-c", d.write(std::string(names[i]) + ".conf", conf)}, reference_binary()));
    servers.back()->start();
  }
  CliHome h;
  ASSERT_EQ(h.run("context save east-sys --server " + servers[0]->url() + " --user sys --password pass").status, 0);

  CommandResult rep{1, ""};
  for (int i = 0; i < 100; ++i) {  // meta leader election takes a few seconds
    rep = h.run("--context east-sys server report jetstream");
    // Wait for every peer to be seen by the leader, not just for a leader.
    if (rep.status == 0 && rep.output.find("RAFT Meta Group Information") != std::string::npos &&
        count_of(rep.output, "│ true    │ true   │") == 3)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(rep.output.find("RAFT Meta Group Information"), std::string::npos) << rep.output;
  EXPECT_NE(rep.output.find("│ Server │ Cluster │ Streams │ Consumers │ Messages │ Bytes │ Memory │ File │ API Req │ API Err │"),
            std::string::npos) << rep.output;
  EXPECT_NE(rep.output.find("│ Name │ ID       │ Leader │ Current │ Online │ Active │ Lag │"), std::string::npos) << rep.output;
  EXPECT_EQ(count_of(rep.output, "│ yes    │"), 1) << rep.output;
  EXPECT_EQ(count_of(rep.output, "*    │"), 1) << rep.output;  // the leader marked in the summary
  // Summary rows sorted by cluster: central, east, west.
  size_t c = rep.output.find("│ central │"), e = rep.output.find("│ east    │"), w = rep.output.find("│ west    │");
  ASSERT_TRUE(c != std::string::npos && e != std::string::npos && w != std::string::npos) << rep.output;
  EXPECT_LT(c, e);
  EXPECT_LT(e, w);
  // Raft IDs are natscli's 8-char hashes of the server names.
  EXPECT_NE(rep.output.find("│ n1   │ fjFyEjc1 │"), std::string::npos) << rep.output;
  EXPECT_NE(rep.output.find("│ n2   │ 44jzkV9D │"), std::string::npos) << rep.output;
  EXPECT_NE(rep.output.find("│ n3   │ BXScrY9i │"), std::string::npos) << rep.output;
  expect_boxes_aligned(rep.output);

  auto list = h.run("--context east-sys server list");
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_NE(list.output.find("Cluster Overview"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("│ Cluster │ Node Count │ Outgoing Gateways │ Incoming Gateways │ Connections │"),
            std::string::npos);
  EXPECT_NE(list.output.find("│         │          3 │                 6 │                 6 │"), std::string::npos)
      << list.output;
  expect_boxes_aligned(list.output);

  // `server ping`: one line per server with its rtt, then natscli's statistics block; the
  // expected count comes from active_servers, so nothing is reported missing.
  auto ping = h.run("--context east-sys server ping");
  ASSERT_EQ(ping.status, 0) << ping.output;
  for (auto n : {"n1", "n2", "n3"})
    EXPECT_TRUE(std::regex_search(ping.output, std::regex(std::string("(^|\n)") + n + " {59}rtt=[0-9.]+(ns|µs|ms|s)\n")))
        << ping.output;
  EXPECT_TRUE(std::regex_search(ping.output, std::regex(R"(\n\n---- ping statistics ----\n3 replies max: [0-9]+\.[0-9]{2} min: [0-9]+\.[0-9]{2} avg: [0-9]+\.[0-9]{2}\n$)")))
      << ping.output;
  EXPECT_EQ(ping.output.find("Missing"), std::string::npos) << ping.output;
  auto ping4 = h.run("--context east-sys --timeout 1s server ping 4");
  EXPECT_NE(ping4.output.find("\nMissing 1 server(s)\n"), std::string::npos) << ping4.output;

  // `server info NAME`: every VARZ section natscli shows, continuation rows aligned.
  auto info = h.run("--context east-sys server info n3");
  ASSERT_EQ(info.status, 0) << info.output;
  EXPECT_TRUE(std::regex_search(info.output, std::regex(R"(^Server information for n3 \(N[A-Z0-9]{55}\)\n\nProcess Details:\n\n)")))
      << info.output;
  for (auto sec : {"\nConnection Details:\n\n", "\nJetStream:\n\n", "\nLimits:\n\n", "\nStatistics:\n\n",
                   "\nCluster:\n\n", "\nSuper Cluster:\n\n"})
    EXPECT_NE(info.output.find(sec), std::string::npos) << sec << info.output;
  // Labels are right-aligned to the longest, "Storage Directory".
  EXPECT_NE(info.output.find("\n            Version: 2."), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("\n    Active Accounts: "), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("\n     Write Deadline: 10.00s\n"), std::string::npos) << info.output;
  EXPECT_TRUE(std::regex_search(info.output, std::regex(R"(\n          CPU Cores: [0-9]+ [0-9]+\.[0-9]{2}%\n)"))) << info.output;
  EXPECT_NE(info.output.find("\n               Name: west\n               Host: 127.0.0.1:" + std::to_string(gw[2]) +
                             "\n           Clusters: central\n                     east\n                     west\n"),
            std::string::npos) << info.output;
  EXPECT_NE(info.output.find("\n               URLs: 127.0.0.1:" + std::to_string(rt[2]) + "\n"), std::string::npos)
      << info.output;

  // The seed's request/reply across the gateways through saved contexts: the service on the
  // east server, the requester on the west one.
  ASSERT_EQ(h.run("context save east --server " + servers[0]->url()).status, 0);
  ASSERT_EQ(h.run("context save west --server " + servers[2]->url()).status, 0);
  Background rep_east(h, "--context east reply greet 'hello from east' --count 1");
  ASSERT_TRUE(rep_east.wait_for("Listening on")) << rep_east.output();
  CommandResult req{1, ""};
  for (int i = 0; i < 25; ++i) {  // interest crosses the gateways asynchronously
    req = h.run("--context west --timeout 1s request greet ''");
    if (req.status == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(req.status, 0) << req.output;
  EXPECT_TRUE(std::regex_search(req.output, std::regex(R"(Received with rtt [0-9.]+(ns|µs|ms|s)\nhello from east\n)")))
      << req.output;
  EXPECT_EQ(rep_east.wait_exit(), 0);
  EXPECT_NE(rep_east.output().find("Received on subject \"greet\":"), std::string::npos) << rep_east.output();
}
#endif  // NATS_CLI_BIN

}  // namespace NATS_TEST_FILE_ID
