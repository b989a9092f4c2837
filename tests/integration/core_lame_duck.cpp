// Lame duck mode (SIGUSR2, or `nats-server --signal ldm=<pid>`): the listener closes at once,
// connected clients are told (libnats's lame duck callback fires), the $SYS LAMEDUCK event
// goes out, and after the grace period the clients are closed and the server exits 0.
#include <gtest/gtest.h>

#include <atomic>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

void on_lame_duck(natsConnection*, void* closure) { static_cast<std::atomic<int>*>(closure)->fetch_add(1); }

// 2.9.10 has no LAMEDUCK event yet (2.10 added it); we send it.
void drain_clients_then_exit(const std::string& binary, bool expect_event) {
  TempDir d;
  std::string conf = d.write("ldm.conf",
                             "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n"
                             "accounts: { $SYS: { users: [{user: sys, password: pass}] } }\n"
                             "no_auth_user: app\nauthorization { users: [{user: app, password: pass}] }\n");
  ServerProcess srv({"-c", conf}, binary);
  srv.start();

  std::atomic<int> told{0};
  std::vector<ConnPtr> clients(3);
  for (auto& c : clients) {
    OptsPtr o;
    natsOptions_SetAllowReconnect(o.p, false);
    natsOptions_SetLameDuckModeCB(o.p, on_lame_duck, &told);
    ASSERT_EQ(connect_url(c, srv.url(), o.p), NATS_OK);
  }
  ConnPtr sys;
  ASSERT_EQ(connect_url(sys, "nats://sys:pass@127.0.0.1:" + std::to_string(srv.port())), NATS_OK);
  SubPtr event;
  ASSERT_EQ(natsConnection_SubscribeSync(&event.p, sys.p, "$SYS.SERVER.*.LAMEDUCK"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(sys.p), NATS_OK);

  auto signal = testing_harness::run_command(testing_harness::server_binary() + " --signal ldm=" +
                                             std::to_string(srv.pid()));
  ASSERT_EQ(signal.status, 0) << signal.output;

  if (expect_event) {
    MsgPtr m;
    ASSERT_EQ(natsSubscription_NextMsg(&m.p, event.p, 3000), NATS_OK);
    EXPECT_NE(m.data().find("\"id\""), std::string::npos) << m.data();
  }
  EXPECT_TRUE(wait_for([&] { return told.load() == 3; }, milliseconds(3000))) << told.load();
  // No new client gets in.
  EXPECT_TRUE(wait_for([&] { return !testing_harness::port_open(srv.port()); }, milliseconds(2000)));
  // Still served during the grace period.
  EXPECT_EQ(natsConnection_Flush(clients[0].p), NATS_OK);
  // Then closed one by one (at most a second apart) and the server exits cleanly.
  EXPECT_TRUE(wait_for([&] {
    for (auto& c : clients)
      if (!natsConnection_IsClosed(c.p)) return false;
    return true;
  }, milliseconds(8000)));
  bool exited = wait_for([&] { return ::kill(srv.pid(), 0) != 0 || srv.log().find("Server Exiting") != std::string::npos; },
                         milliseconds(8000));
  EXPECT_TRUE(exited) << srv.log();
  int st = srv.stop();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  std::string log = srv.log();
  EXPECT_NE(log.find("Entering lame duck mode, stop accepting new clients"), std::string::npos) << log;
  EXPECT_NE(log.find("Closing existing clients"), std::string::npos) << log;
}

TEST(CoreLameDuck, DrainsClientsThenExits) { drain_clients_then_exit(testing_harness::server_binary(), true); }

// The same scenario against the reference, where it is installed.
TEST(CoreLameDuck, ReferenceDoesTheSame) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "reference nats-server not installed";
  drain_clients_then_exit(testing_harness::reference_binary(), false);
}

TEST(CoreLameDuck, SignalCommandErrors) {
  auto bad = testing_harness::run_command(testing_harness::server_binary() + " --signal bogus=1");
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("unknown signal \"bogus\""), std::string::npos) << bad.output;
  auto missing = testing_harness::run_command(testing_harness::server_binary() + " --signal ldm=/nonexistent/pid");
  EXPECT_EQ(missing.status, 1);
  TempDir d;
  auto grace = testing_harness::run_command(
      testing_harness::server_binary() + " -t -c " +
      d.write("g.conf", "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"40s\"\n"));
  EXPECT_NE(grace.status, 0);
  EXPECT_NE(grace.output.find("lame duck grace period (40s) should be strictly lower than lame duck duration (30s)"),
            std::string::npos)
      << grace.output;
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
