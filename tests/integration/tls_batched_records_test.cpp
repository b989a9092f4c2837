// A TLS client connection's input is taken a batch of records at a time (issue 15): OpenSSL
// hands out one record per read, and the server now parses every record it has already read
// ahead before flushing, as a plain socket's read would give them. A publisher that writes
// each message as its own record (libnats with SendAsap), messages split over records (larger
// than 16 KiB) and records cut by the socket must all arrive, once each and in order.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"
#include "tls_test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;
using testing_harness::TempDir;

natsStatus batched_tls_connect(ConnPtr& c, const std::string& url, const TestPki& pki, bool send_asap) {
  OptsPtr o;
  natsOptions_SetTimeout(o.p, 5000);
  natsOptions_SetAllowReconnect(o.p, false);
  natsOptions_SetSecure(o.p, true);
  natsOptions_SetSendAsap(o.p, send_asap);
  natsOptions_LoadCATrustedCertificates(o.p, pki.ca.c_str());
  return connect_url(c, url, o.p);
}

class TlsBatchedRecords : public TlsSuite {};

TEST_F(TlsBatchedRecords, OneRecordPerMessageArrivesWholeAndInOrder) {
  TempDir cfg_dir;
  std::string conf = "tls {\n  cert_file: \"" + pki_->server_cert + "\"\n  key_file: \"" + pki_->server_key + "\"\n";
  conf += "  timeout: 3\n}\n";
  ServerProcess srv({"-c", cfg_dir.write("tls.conf", conf)});
  srv.start();
  ConnPtr pub, sub_conn;
  ASSERT_EQ(batched_tls_connect(pub, srv.url(), *pki_, true), NATS_OK) << srv.log();
  ASSERT_EQ(batched_tls_connect(sub_conn, srv.url(), *pki_, false), NATS_OK) << srv.log();
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, sub_conn.p, "batched.tls"), NATS_OK);
  natsSubscription_SetPendingLimits(sub.p, -1, -1);
  ASSERT_EQ(natsConnection_Flush(sub_conn.p), NATS_OK);

  // Every 100th message is larger than a TLS record (40 KiB: three records).
  auto body_of = [](int i) {
    std::string b = std::to_string(i) + ":";
    b.resize(i % 100 == 99 ? 40 * 1024 : 16 + i % 7, static_cast<char>('a' + i % 26));
    return b;
  };
  const int n = 3000;
  for (int i = 0; i < n; ++i) {
    std::string b = body_of(i);
    ASSERT_EQ(natsConnection_Publish(pub.p, "batched.tls", b.data(), static_cast<int>(b.size())), NATS_OK);
  }
  ASSERT_EQ(natsConnection_Flush(pub.p), NATS_OK);
  for (int i = 0; i < n; ++i) {
    MsgPtr m;
    ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 10000), NATS_OK) << "message " << i << " of " << n;
    ASSERT_EQ(m.data(), body_of(i)) << "message " << i;
  }
  MsgPtr extra;
  EXPECT_EQ(natsSubscription_NextMsg(&extra.p, sub.p, 200), NATS_TIMEOUT) << "a message came twice";
  EXPECT_TRUE(natsConnection_Status(pub.p) == NATS_CONN_STATUS_CONNECTED);
  EXPECT_TRUE(natsConnection_Status(sub_conn.p) == NATS_CONN_STATUS_CONNECTED);
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
