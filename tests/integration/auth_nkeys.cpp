// NKey users (authorization and accounts users lists): the client signs the INFO nonce
// with its seed. Every test runs against our server and the reference nats-server 2.9.10,
// with the same expectations, so the observable answers are the reference's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "util/bit_encoding.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;

// Generated for these tests (seed, public key).
constexpr const char* kSeedA = "SUAD2YZNYDQLLDTIVDVNJQ647DRDXK4BZVYT5E527SDOJPBXQNNQH6IZIM";
constexpr const char* kPubA = "UBYBIR5TO4MJULRFFZOVQBXTSRGRVJA2I7SBIBEYAGLUNIE37IF2YHJV";
constexpr const char* kSeedB = "SUALRVASPMJZTTBXYFWDNKXIQWMBTXKUB7P6DHWQ27GD7VUA5J7VW2P4GI";
constexpr const char* kPubB = "UBPJTVRDUYGR4EX6KOJBJBKAFBUEYFUSKZGIU4ZB6DBKDLS2QX2KLKEA";
// Not configured on the server.
constexpr const char* kSeedX = "SUAB47KDN4AATNEJ4RRBMOSGJIA3535OZ5LISOAAUSYHOI3XD56HYN5MDA";
constexpr const char* kPubX = "UA7GOLQSPJZW5MDPZE2WNP7C2KQQPSAZAICDGLR3UVQTF5Z2LAFG2SPO";

std::string config() {
  return std::string("accounts {\n") +
         "  A { users: [ {nkey: " + kPubA + "} ] }\n" +
         "  B { users: [ {nkey: " + kPubB + ", permissions: { publish: { deny: \"forbidden\" } } },\n" +
         "              {user: bob, password: pw} ] }\n" +
         "}\n";
}

std::string sign(const char* seed, const std::string& nonce) {
  unsigned char* sig = nullptr;
  int len = 0;
  EXPECT_EQ(nats_Sign(seed, nonce.c_str(), &sig, &len), NATS_OK);
  std::string out = nats::util::base64url_encode(std::string_view(reinterpret_cast<const char*>(sig), len));
  free(sig);
  return out;
}

class NKeyUsers : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
    srv_ = start_with_config(config(), {}, GetParam());
    seed_dir_ = std::make_unique<testing_harness::TempDir>();
  }
  std::string seed_file(const char* seed) {
    static int n = 0;
    return seed_dir_->write("seed" + std::to_string(++n) + ".nk", std::string(seed) + "\n");
  }
  natsStatus connect_nkey(ConnPtr& c, const char* pub, const char* seed) {
    OptsPtr o;
    natsOptions_SetNKeyFromSeed(o.p, pub, seed_file(seed).c_str());
    return connect_signed(c, srv_->url(), o.p);
  }
  std::string nonce_of(const RawClient& raw) {
    auto j = nlohmann::json::parse(raw.info_json());
    return j.value("nonce", "");
  }
  // Sends CONNECT with the given fields and a PING; returns the first answer line.
  std::string answer(RawClient& raw, const std::string& fields) {
    raw.send("CONNECT {\"verbose\":false" + fields + "}\r\nPING\r\n");
    return raw.read_line(milliseconds(2000)).value_or("<none>");
  }
  std::unique_ptr<testing_harness::ServerProcess> srv_;
  std::unique_ptr<testing_harness::TempDir> seed_dir_;
};

TEST_P(NKeyUsers, InfoCarriesANonce) {
  RawClient raw(srv_->port());
  auto j = nlohmann::json::parse(raw.info_json());
  EXPECT_TRUE(j.value("auth_required", false));
  EXPECT_EQ(j.value("nonce", "").size(), 15u) << raw.info();
  RawClient other(srv_->port());
  EXPECT_NE(nonce_of(other), nonce_of(raw));  // one per connection
}

TEST_P(NKeyUsers, LibnatsSignsAndIsAdmittedIntoItsAccount) {
  ConnPtr a, b, x;
  ASSERT_EQ(connect_nkey(a, kPubA, kSeedA), NATS_OK);
  ASSERT_EQ(connect_nkey(b, kPubB, kSeedB), NATS_OK);
  EXPECT_EQ(connect_nkey(x, kPubX, kSeedX), NATS_CONNECTION_AUTH_FAILED);
  // Accounts are separate: A's subscriber sees A's publish and not B's.
  SubPtr sub;
  ASSERT_EQ(natsConnection_SubscribeSync(&sub.p, a.p, "nk.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(a.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(b.p, "nk.b", "from-b"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(b.p), NATS_OK);
  ASSERT_EQ(natsConnection_PublishString(a.p, "nk.a", "from-a"), NATS_OK);
  MsgPtr m;
  ASSERT_EQ(natsSubscription_NextMsg(&m.p, sub.p, 2000), NATS_OK);
  EXPECT_EQ(m.data(), "from-a");
  MsgPtr none;
  EXPECT_EQ(natsSubscription_NextMsg(&none.p, sub.p, 200), NATS_TIMEOUT);
}

// A public key signed with the wrong seed (here: another user's).
TEST_P(NKeyUsers, SeedNotMatchingTheKeyIsRefused) {
  ConnPtr c;
  EXPECT_EQ(connect_nkey(c, kPubA, kSeedB), NATS_CONNECTION_AUTH_FAILED);
}

TEST_P(NKeyUsers, RawProtocolAnswers) {
  {
    RawClient good(srv_->port());
    EXPECT_EQ(answer(good, ",\"nkey\":\"" + std::string(kPubA) + "\",\"sig\":\"" + sign(kSeedA, nonce_of(good)) + "\""),
              "PONG");
  }
  {
    RawClient wrong(srv_->port());  // signature by another key
    EXPECT_EQ(answer(wrong, ",\"nkey\":\"" + std::string(kPubA) + "\",\"sig\":\"" + sign(kSeedB, nonce_of(wrong)) + "\""),
              "-ERR 'Authorization Violation'");
    EXPECT_TRUE(wrong.wait_closed(milliseconds(2000)));
  }
  {
    RawClient stale(srv_->port());  // signature of another nonce
    EXPECT_EQ(answer(stale, ",\"nkey\":\"" + std::string(kPubA) + "\",\"sig\":\"" + sign(kSeedA, "not-the-nonce") + "\""),
              "-ERR 'Authorization Violation'");
  }
  {
    RawClient unknown(srv_->port());  // a valid signature by a key the server does not know
    EXPECT_EQ(answer(unknown, ",\"nkey\":\"" + std::string(kPubX) + "\",\"sig\":\"" + sign(kSeedX, nonce_of(unknown)) + "\""),
              "-ERR 'Authorization Violation'");
  }
  {
    RawClient missing(srv_->port());
    EXPECT_EQ(answer(missing, ",\"nkey\":\"" + std::string(kPubA) + "\""), "-ERR 'Authorization Violation'");
  }
  {
    RawClient garbage(srv_->port());
    EXPECT_EQ(answer(garbage, ",\"nkey\":\"" + std::string(kPubA) + "\",\"sig\":\"!!not base64!!\""),
              "-ERR 'Authorization Violation'");
  }
  {
    RawClient password(srv_->port());  // password users still work beside NKey users
    EXPECT_EQ(answer(password, ",\"user\":\"bob\",\"pass\":\"pw\""), "PONG");
  }
}

TEST_P(NKeyUsers, PermissionsApplyPerNKeyUser) {
  RawClient b(srv_->port());
  ASSERT_EQ(answer(b, ",\"nkey\":\"" + std::string(kPubB) + "\",\"sig\":\"" + sign(kSeedB, nonce_of(b)) + "\""), "PONG");
  b.send("PUB forbidden 1\r\nx\r\nPING\r\n");
  EXPECT_EQ(b.read_line(milliseconds(2000)).value_or(""), "-ERR 'Permissions Violation for Publish to \"forbidden\"'");
  EXPECT_EQ(b.read_line(milliseconds(2000)).value_or(""), "PONG");
}

INSTANTIATE_TEST_SUITE_P(Servers, NKeyUsers,
                         ::testing::Values(testing_harness::server_binary(), testing_harness::reference_binary()),
                         [](const auto& info) { return info.index == 0 ? std::string("Ours") : std::string("Reference"); });

#ifdef NATS_CLI_BIN
// `nats --nkey <seed file>` signs with the seed (and derives the public key from it).
TEST(NKeyCli, PublishesWithASeedFile) {
  auto srv = start_with_config(config());
  testing_harness::TempDir d;
  std::string good = d.write("a.nk", std::string(kSeedA) + "\n");
  std::string unknown = d.write("x.nk", std::string(kSeedX) + "\n");
  const std::string cli = std::string("env -u NATS_URL -u NATS_NKEY -u NATS_CONTEXT HOME=") + d.path() +
                          " XDG_CONFIG_HOME=" + d.path() + " " + NATS_CLI_BIN + " --server " + srv->url();
  auto ok = testing_harness::run_command(cli + " --nkey " + good + " pub nk.cli hello");
  EXPECT_EQ(ok.status, 0) << ok.output;
  auto refused = testing_harness::run_command(cli + " --nkey " + unknown + " pub nk.cli hello");
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("Authorization Violation"), std::string::npos) << refused.output;
}
#endif

// Config checks of the reference: a user key must be a valid public user key.
TEST(NKeyConfig, InvalidKeysAreRefusedAtStartup) {
  for (const std::string& bad : {std::string("UBYBIR5TO4MJULRFFZOVQBXTSRGRVJA2I7SBIBEYAGLUNIE37IF2YHJW"),  // CRC
                                 std::string(kSeedA),                                                  // a seed
                                 std::string("ABYBIR5TO4MJULRFFZOVQBXTSRGRVJA2I7SBIBEYAGLUNIE37IF2YHJV")}) {
    for (const auto& bin : {testing_harness::server_binary(), testing_harness::reference_binary()}) {
      if (bin != testing_harness::server_binary() && !testing_harness::reference_available()) continue;
      testing_harness::TempDir d;
      std::string conf = d.write("n.conf", "authorization { users: [ {nkey: " + bad + "} ] }\n");
      std::string cmd = bin + " -t -c " + conf + " 2>&1";
      FILE* p = popen(cmd.c_str(), "r");
      std::string out;
      char buf[512];
      while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
      int rc = pclose(p);
      EXPECT_NE(rc, 0) << bin << ": " << bad;
      EXPECT_NE(out.find("Not a valid public nkey for a user"), std::string::npos) << bin << ": " << out;
    }
  }
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
