// Differential protocol test: every scripted raw exchange in kCases is played against the
// reference nats-server and against the server under test, and the two transcripts must be
// identical once server-specific values (ids, ports, versions, ...) are normalised.
//
// To add a case, append a row to kCases. A transcript is everything the server sends, read
// until as many PONGs as the script has PINGs arrived, or the server closed the connection;
// so every script should end with a PING or with something the server closes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "test_util.h"

// Everything below is local to this file, also when batched into a unity build (tests/CMakeLists.txt).
namespace NATS_TEST_FILE_ID {

namespace {

using namespace itest;
using testing_harness::ServerProcess;

struct DiffCase {
  std::string name;
  std::vector<std::string> steps;  // sent in order, each as its own write with a pause between
  std::string config = {};         // server config file contents, "" for none
  std::vector<std::string> flags = {};  // extra command-line flags
  int hold_connections = 0;        // idle connections opened (and kept) before the script runs
};

// INFO values that legitimately differ between two servers (or two runs of one).
const std::set<std::string> kVolatileInfoKeys = {
    "server_id", "server_name", "nonce", "client_id", "client_ip", "port", "version", "go",
    "host", "git_commit", "connect_urls", "ws_connect_urls", "xkey"};

// Keys a newer server may add although the reference (2.9) does not send them in these setups.
const std::set<std::string> kLaterVersionInfoKeys = {"xkey", "api_lvl", "domain", "git_commit"};

// Canonical text of an INFO line: keys sorted, volatile values replaced. `drop` lists keys
// to leave out (used to ignore later-version extras the reference does not send).
std::string normalise_info_line(const std::string& line, const std::set<std::string>& drop = {}) {
  nlohmann::json j = nlohmann::json::parse(line.substr(5), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "INFO <unparsable: " + line + ">";
  nlohmann::json out = nlohmann::json::object();
  for (auto& [k, v] : j.items()) {
    if (drop.count(k)) continue;
    out[k] = kVolatileInfoKeys.count(k) ? nlohmann::json("<" + k + ">") : v;
  }
  return "INFO " + out.dump();  // nlohmann's object keeps keys sorted
}

std::set<std::string> info_keys(const std::string& line) {
  std::set<std::string> keys;
  nlohmann::json j = nlohmann::json::parse(line.substr(5), nullptr, false);
  if (j.is_object())
    for (auto& [k, v] : j.items()) keys.insert(k);
  return keys;
}

// Printable form of raw bytes, one protocol line per output line.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n\n";
    else if (static_cast<unsigned char>(c) < 32) out += "\\x" + std::to_string(static_cast<int>(c));
    else out += c;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

struct Transcript {
  std::vector<std::string> info_lines;  // raw INFO lines, in order
  std::string rest;                     // every other byte the server sent
  bool closed = false;
};

// Plays one case against a fresh server of the given binary.
Transcript play(const DiffCase& c, const std::string& binary) {
  std::unique_ptr<ServerProcess> srv;
  if (!c.config.empty()) {
    srv = start_with_config(c.config, c.flags, binary);
  } else {
    srv = std::make_unique<ServerProcess>(c.flags, binary);
    srv->start();
  }
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < c.hold_connections; ++i) held.push_back(std::make_unique<RawClient>(srv->port()));
  // Both servers register a connection asynchronously; give the held ones time to count.
  if (c.hold_connections) std::this_thread::sleep_for(milliseconds(200));
  RawClient raw(srv->port(), /*read_info=*/false);
  EXPECT_TRUE(raw.connected());
  // PINGs in the whole script (steps may split one), with CRLF or a bare LF.
  std::string script;
  for (auto& s : c.steps) script += lower(s);
  size_t want_pongs = count_of(script, "ping\n") + count_of(script, "ping\r\n");

  std::string got;
  // Let INFO arrive first, as a client would.
  got += raw.read_until_suffix("\r\n", milliseconds(2000));
  for (size_t i = 0; i < c.steps.size(); ++i) {
    if (i) std::this_thread::sleep_for(milliseconds(30));  // separate TCP segments
    raw.send(c.steps[i]);                                    // may fail once the server closed
  }
  auto deadline = Clock::now() + milliseconds(3000);
  while (Clock::now() < deadline && !raw.closed()) {
    std::string more = raw.read_until_suffix("PONG\r\n", milliseconds(50));
    got += more;
    if (want_pongs && count_of(got, "PONG\r\n") >= want_pongs) break;
  }
  if (!raw.closed()) got += raw.read_until_suffix("\x01", milliseconds(20));  // trailing bytes

  Transcript t;
  t.closed = raw.closed();
  size_t pos = 0;
  while (pos < got.size()) {
    size_t eol = got.find("\r\n", pos);
    size_t end = eol == std::string::npos ? got.size() : eol + 2;
    std::string line = got.substr(pos, end - pos);
    if (line.rfind("INFO ", 0) == 0)
      t.info_lines.push_back(line.substr(0, line.size() - (eol == std::string::npos ? 0 : 2)));
    else
      t.rest += line;
    pos = end;
  }
  return t;
}

// Compares two transcripts; returns "" when equal, else a readable explanation.
std::string compare(const Transcript& ref, const Transcript& ours) {
  std::string diff;
  if (ref.info_lines.size() != ours.info_lines.size())
    diff += "INFO count: reference " + std::to_string(ref.info_lines.size()) + ", ours " +
            std::to_string(ours.info_lines.size()) + "\n";
  for (size_t i = 0; i < std::min(ref.info_lines.size(), ours.info_lines.size()); ++i) {
    auto ref_keys = info_keys(ref.info_lines[i]);
    std::set<std::string> drop;
    for (auto& k : info_keys(ours.info_lines[i]))
      if (!ref_keys.count(k) && kLaterVersionInfoKeys.count(k)) drop.insert(k);
    std::string a = normalise_info_line(ref.info_lines[i]);
    std::string b = normalise_info_line(ours.info_lines[i], drop);
    if (a != b) diff += "INFO differs:\n  reference: " + a + "\n  ours:      " + b + "\n";
  }
  if (ref.rest != ours.rest)
    diff += "Protocol differs:\n--- reference ---\n" + escape(ref.rest) + "\n--- ours ---\n" + escape(ours.rest) + "\n";
  if (ref.closed != ours.closed)
    diff += std::string("Close differs: reference ") + (ref.closed ? "closed" : "kept open") +
            ", ours " + (ours.closed ? "closed" : "kept open") + "\n";
  return diff;
}

const std::string kQuiet = "CONNECT {\"verbose\":false}\r\n";
const std::string kHeaders = "CONNECT {\"verbose\":false,\"headers\":true}\r\n";

const std::vector<DiffCase> kCases = {
    // CONNECT variations.
    {"ConnectVerboseOn", {"CONNECT {\"verbose\":true}\r\nPING\r\n"}},
    {"ConnectVerboseOff", {kQuiet + "PING\r\n"}},
    {"ConnectEmptyObjectKeepsVerbose", {"CONNECT {}\r\nPING\r\n"}},
    {"NoConnectDefaultsToVerbose", {"SUB a 1\r\nPING\r\n"}},
    {"ConnectFullClientFields",
     {"CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,\"name\":\"n\",\"lang\":\"c\","
      "\"version\":\"3.4.1\",\"protocol\":1,\"echo\":true,\"headers\":true,\"no_responders\":true}\r\nPING\r\n"}},
    {"ConnectUnknownFieldIgnored", {"CONNECT {\"verbose\":false,\"foo\":1,\"bar\":{\"x\":[1]}}\r\nPING\r\n"}},
    {"ConnectBadJson", {"CONNECT {bad\r\nPING\r\n"}},
    {"ConnectNoArgument", {"CONNECT\r\nPING\r\n"}},
    {"ConnectJsonArray", {"CONNECT []\r\nPING\r\n"}},
    {"ConnectWrongFieldType", {"CONNECT {\"verbose\":\"yes\"}\r\nPING\r\n"}},
    {"ConnectProtocolTooHigh", {"CONNECT {\"protocol\":2}\r\nPING\r\n"}},
    {"ConnectTwice", {"CONNECT {\"verbose\":true}\r\nCONNECT {\"verbose\":false}\r\nSUB a 1\r\nPING\r\n"}},
    {"ConnectPedanticVerbose",
     {"CONNECT {\"verbose\":true,\"pedantic\":true}\r\nSUB a..b 1\r\nSUB ok 2\r\nPING\r\n"}},
    {"EchoOff", {"CONNECT {\"verbose\":false,\"echo\":false}\r\nSUB e 1\r\nPUB e 1\r\nx\r\nPING\r\n"}},

    // PUB/SUB/UNSUB/PING sequences with exact MSG lines.
    {"PubSubUnsubSequence",
     {kQuiet + "SUB foo 1\r\nSUB foo.* 2\r\nSUB > 3\r\nPUB foo 5\r\nhello\r\nPUB foo.bar reply.to 3\r\nabc\r\n"
               "UNSUB 3\r\nPUB foo 0\r\n\r\nUNSUB 1\r\nPUB foo 1\r\nz\r\nPING\r\n"}},
    {"QueueSubscription", {kQuiet + "SUB q grp 1\r\nPUB q 1\r\nx\r\nPING\r\n"}},
    {"UnsubWithMax",
     {kQuiet + "SUB x 1\r\nUNSUB 1 2\r\nPUB x 1\r\na\r\nPUB x 1\r\nb\r\nPUB x 1\r\nc\r\nPING\r\n"}},
    {"UnsubUnknownSid", {"CONNECT {\"verbose\":true}\r\nUNSUB 99\r\nUNSUB x\r\nPING\r\n"}},
    {"DuplicateSid", {kQuiet + "SUB x 1\r\nSUB x 1\r\nPUB x 1\r\na\r\nPING\r\n"}},
    {"LowercaseOps", {"connect {\"verbose\":false}\r\nsub y 1\r\npub y 1\r\nz\r\nping\r\n"}},
    {"ExtraWhitespace", {kQuiet + "SUB  y\t 1\r\nPUB  y   1\r\na\r\nSUB foo\tq 6\r\nPING\r\n"}},
    {"BareLineFeeds", {kQuiet + "SUB y 1\nPUB y 1\na\r\nPING\n"}},
    {"SplitAcrossWrites", {kQuiet + "SUB s 1\r\nPU", "B s 5\r\nhel", "lo\r", "\nPI", "NG\r\n"}},
    {"PongAndClientInfoIgnored", {kQuiet + "PONG\r\nINFO {}\r\n+OK\r\nPING\r\n"}},
    {"Pipelined",
     {kQuiet + "SUB p 1\r\n" + [] {
        std::string s;
        for (int i = 0; i < 50; ++i) s += "PUB p 2\r\n" + std::to_string(10 + i) + "\r\n";
        return s;
      }() + "PING\r\n"}},

    // Headers.
    {"HpubHmsg", {kHeaders + "SUB h 1\r\nHPUB h 22 24\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nhi\r\nPING\r\n"}},
    {"HpubWithReply", {kHeaders + "SUB h 1\r\nHPUB h r.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n"}},
    {"HpubToPlainSubscriberStillHmsg",
     {kHeaders + "SUB h 1\r\nHPUB h 12 12\r\nNATS/1.0\r\n\r\n\r\nPING\r\n"}},
    {"HpubWithoutHeadersSupport", {kQuiet + "SUB h 1\r\nHPUB h 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n"}},
    {"HpubHeaderLongerThanTotal", {kHeaders + "HPUB h 20 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n"}},

    // Garbage and malformed operations.
    {"UnknownOpBeforeConnect", {"FOO\r\n"}},
    {"UnknownOpAfterConnect", {kQuiet + "FOO bar\r\nPING\r\n"}},
    {"ClientSendsMsg", {kQuiet + "MSG foo 1 1\r\nx\r\nPING\r\n"}},
    {"ClientSendsErr", {kQuiet + "-ERR 'x'\r\nPING\r\n"}},
    {"PubBadSize", {kQuiet + "PUB foo abc\r\nhi\r\nPING\r\n"}},
    {"PubNegativeSize", {kQuiet + "PUB foo -1\r\n\r\nPING\r\n"}},
    {"PubMissingSize", {kQuiet + "PUB foo\r\nPING\r\n"}},
    {"PubTooManyArgs", {kQuiet + "PUB foo a b 1\r\nx\r\nPING\r\n"}},
    {"PubPayloadLongerThanSize", {kQuiet + "PUB y 3\r\nabcde\r\nPING\r\n"}},
    {"SubMissingArgs", {kQuiet + "SUB\r\nPING\r\n"}},
    {"SubTooManyArgs", {kQuiet + "SUB foo bar baz 4\r\nPING\r\n"}},
    {"UnsubMissingArgs", {kQuiet + "UNSUB\r\nPING\r\n"}},
    {"OversizedControlLine", {kQuiet + "PUB " + std::string(5000, 'a') + " 2\r\nhi\r\n"}},
    {"PayloadOverMaxPayload", {kQuiet + "PUB foo 1025\r\n"}, "max_payload: 1024\n"},
    {"PayloadAtMaxPayload", {kQuiet + "SUB foo 1\r\nPUB foo 1024\r\n" + std::string(1024, 'p') + "\r\nPING\r\n"},
     "max_payload: 1024\n"},

    // Subjects.
    {"SubInvalidSubject", {kQuiet + "SUB a..b 1\r\nSUB foo. 2\r\nSUB .x 3\r\nSUB a.>.b 4\r\nSUB ok.> 5\r\nPING\r\n"}},
    {"PedanticInvalidPublishSubject",
     {"CONNECT {\"verbose\":true,\"pedantic\":true}\r\nSUB a.* 1\r\nPUB a.* 2\r\nhi\r\nPING\r\n"}},
    {"NonPedanticWildcardPublish", {kQuiet + "SUB a.> 1\r\nPUB a.> 2\r\nhi\r\nPING\r\n"}},

    // No responders.
    {"NoRespondersStatus",
     {"CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB in.1 1\r\n"
      "PUB nobody in.1 2\r\nhi\r\nPING\r\n"}},
    {"NoRespondersNotWanted", {kHeaders + "SUB in.1 1\r\nPUB nobody in.1 2\r\nhi\r\nPING\r\n"}},
    {"NoRespondersNeedsHeaders", {"CONNECT {\"verbose\":false,\"no_responders\":true}\r\nPING\r\n"}},

    // Verbose acknowledgements for each operation.
    {"VerboseAcksEachOp",
     {"CONNECT {\"verbose\":true,\"headers\":true}\r\nSUB v 1\r\nSUB v q 2\r\nPUB v 1\r\na\r\n"
      "HPUB v 12 13\r\nNATS/1.0\r\n\r\nb\r\nUNSUB 1\r\nUNSUB 2 5\r\nPING\r\nPONG\r\n"}},

    // Limits and auth.
    {"MaxConnections", {kQuiet + "PING\r\n"}, "max_connections: 2\n", {}, 2},
    {"MaxSubscriptions", {kQuiet + "SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n"}, "max_subscriptions: 2\n"},
    {"AuthUserPassOk", {"CONNECT {\"verbose\":true,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n"}, "", {"--user", "u", "--pass", "p"}},
    {"AuthUserPassBad", {"CONNECT {\"verbose\":true,\"user\":\"u\",\"pass\":\"x\"}\r\nPING\r\n"}, "", {"--user", "u", "--pass", "p"}},
    {"AuthPingBeforeConnect", {"PING\r\n"}, "", {"--user", "u", "--pass", "p"}},
    {"AuthTokenOk", {"CONNECT {\"verbose\":false,\"auth_token\":\"t\"}\r\nPING\r\n"}, "", {"--auth", "t"}},
    {"AuthTokenBad", {"CONNECT {\"verbose\":false,\"auth_token\":\"no\"}\r\nPING\r\n"}, "", {"--auth", "t"}},
};

// gtest prints the case name instead of a byte dump.
void PrintTo(const DiffCase& c, std::ostream* os) { *os << c.name; }

class DiffProtocol : public ::testing::TestWithParam<DiffCase> {};

TEST_P(DiffProtocol, MatchesReference) {
  if (!testing_harness::reference_available()) GTEST_SKIP() << "no reference server at " << testing_harness::reference_binary();
  const DiffCase& c = GetParam();
  Transcript ref = play(c, testing_harness::reference_binary());
  Transcript ours = play(c, testing_harness::server_binary());
  ASSERT_FALSE(ref.info_lines.empty()) << "reference sent no INFO";
  std::string d = compare(ref, ours);
  if (!d.empty())
    ADD_FAILURE() << "case " << c.name << " (against " << testing_harness::server_binary() << ")\n"
                  << d << "--- full reference transcript ---\n"
                  << escape(ref.rest) << (ref.closed ? "<closed>" : "<open>");
}

INSTANTIATE_TEST_SUITE_P(Cases, DiffProtocol, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<DiffCase>& i) { return i.param.name; });

// The normaliser itself: volatile values are masked, everything else must survive.
TEST(DiffNormaliser, MasksServerSpecificValuesOnly) {
  std::string a = "INFO {\"server_id\":\"A\",\"port\":1,\"client_id\":5,\"max_payload\":1024,\"headers\":true}";
  std::string b = "INFO {\"headers\":true,\"max_payload\":1024,\"client_id\":9,\"port\":2,\"server_id\":\"B\"}";
  EXPECT_EQ(normalise_info_line(a), normalise_info_line(b));
  std::string c = "INFO {\"server_id\":\"A\",\"port\":1,\"client_id\":5,\"max_payload\":2048,\"headers\":true}";
  EXPECT_NE(normalise_info_line(a), normalise_info_line(c));
  std::string d = "INFO {\"server_id\":\"A\",\"port\":1,\"client_id\":5,\"max_payload\":1024}";
  EXPECT_NE(normalise_info_line(a), normalise_info_line(d)) << "a missing key must show";
}

TEST(DiffNormaliser, CompareReportsProtocolAndCloseDifferences) {
  Transcript r{{"INFO {\"server_id\":\"A\"}"}, "PONG\r\n", false};
  Transcript same{{"INFO {\"server_id\":\"B\"}"}, "PONG\r\n", false};
  EXPECT_EQ(compare(r, same), "");
  Transcript other_bytes{{"INFO {\"server_id\":\"B\"}"}, "+OK\r\nPONG\r\n", false};
  EXPECT_NE(compare(r, other_bytes), "");
  Transcript closed{{"INFO {\"server_id\":\"B\"}"}, "PONG\r\n", true};
  EXPECT_NE(compare(r, closed), "");
  Transcript extra_key{{"INFO {\"server_id\":\"B\",\"auth_required\":true}"}, "PONG\r\n", false};
  EXPECT_NE(compare(r, extra_key), "");
  Transcript later_key{{"INFO {\"server_id\":\"B\",\"api_lvl\":1}"}, "PONG\r\n", false};
  EXPECT_EQ(compare(r, later_key), "") << "keys of later versions are tolerated";
}

}  // namespace

}  // namespace NATS_TEST_FILE_ID
