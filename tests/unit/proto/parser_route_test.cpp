// Route and gateway protocol tests for proto::Parser. The argument forms follow the
// reference's route.go / gateway.go (processRemoteSub, parseUnsubProto,
// processRoutedMsgArgs, processRoutedHeaderMsgArgs, processGatewayRSub,
// processGatewayAccountSub): RS+ takes 2 or 4 arguments, RS- 2 or 3, RMSG 3, 4, or an
// indicator ("+ reply queues..." / "| queues...") before the size; routed messages with
// headers use the op HMSG (not HRMSG) with the header size before the total size.
// Routes also carry leaf-node traffic with its origin cluster: LS+ <origin> <acc> <subj>
// [<queue> <weight>], LS- like RS- (no origin), LMSG <origin> <acc> <subj> ... <hdr> <size>.
//
// Verified against nats-server 2.9.10 through a raw route connection (CONNECT + INFO on the
// cluster port, a client subscribed to foo and to foo in queue grp):
// | route input                        | reference 2.9.10                                  |
// |------------------------------------|---------------------------------------------------|
// | RMSG $G foo 2 / foo rep 2          | delivered (with reply)                            |
// | RMSG $G foo + rep grp 2            | delivered to the plain and the queue sub          |
// | RMSG $G foo | grp 2                | delivered to both, no reply                       |
// | RMSG $G foo * grp 2 / RMSG $G 2    | closed, no -ERR                                   |
// | HMSG $G foo 12 14 (+ headers)      | delivered as HMSG                                 |
// | HMSG $G foo 14 12                  | closed, no -ERR                                   |
// | RS+ $G foo q (3 args) / RS- 4 args | closed, no -ERR                                   |
// | RS+ $G foo q x (bad weight)        | accepted                                          |
// | A+ $G / Au $G / SUB $G foo         | accepted                                          |
// | AU $G / MSG foo 1 2                | -ERR 'Unknown Protocol Operation', closed          |
// | RMSG line of 5000 bytes            | accepted (routes allow longer lines)              |
// | LS+ $G foo (2 args)                | closed, no -ERR (L ops exist on routes)            |
// | LS+ org $G foo [q 1] / LS- $G foo  | accepted; LS- org $G foo (3 args) accepted         |
// | LS- org $G foo q (4 args)          | closed, no -ERR                                   |
// | LMSG org $G foo 0 2 / rep 0 2      | delivered as MSG (header size 0)                  |
// | LMSG org $G foo + rep grp 0 2      | delivered to both subs                            |
// | LMSG org $G foo 12 14 (+ headers)  | delivered as HMSG                                 |
// | LMSG org $G foo 2 (no header size) | closed, no -ERR                                   |
#include <gtest/gtest.h>

#include "recorder.h"

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::proto::test::NATS_TEST_FILE_ID {
namespace {

using Ev = std::vector<std::string>;

FeedSetup route() {
  FeedSetup s;
  s.kind = Kind::Route;
  return s;
}
FeedSetup gateway() {
  FeedSetup s;
  s.kind = Kind::Gateway;
  return s;
}

Outcome checked(const FeedSetup& st, std::string_view in) {
  const Outcome whole = feed_whole(st, in);
  EXPECT_EQ(feed_bytes(st, in), whole) << in;
  for (size_t c = 1; c < in.size(); ++c) {
    Outcome o = feed(st, in, {c});
    EXPECT_EQ(o, whole) << "split at " << c;
    if (!(o == whole)) break;
  }
  return whole;
}

TEST(ParserRoute, AllOps) {
  const std::string in =
      "CONNECT {\"cluster\":\"c\"}\r\n"
      "INFO {\"id\":\"x\"}\r\n"
      "RS+ $G foo\r\n"
      "RS+ $G foo bar 3\r\n"
      "rs+ acc sub.x q x\r\n"
      "RS- $G foo\r\n"
      "RS- $G foo bar\r\n"
      "SUB $G viasub\r\n"
      "UNSUB $G viasub\r\n"
      "RMSG $G foo 2\r\nhi\r\n"
      "RMSG $G foo reply 2\r\nhi\r\n"
      "RMSG $G foo + reply q1 q2 2\r\nhi\r\n"
      "RMSG $G foo | q1 q2 q3 2\r\nhi\r\n"
      "RMSG $G foo + reply 0\r\n\r\n"
      "rmsg\t$G\tfoo\t|\tq1\t1\r\nx\r\n"
      "HMSG $G foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
      "HMSG $G foo reply 12 12\r\nNATS/1.0\r\n\r\n\r\n"
      "HMSG $G foo + reply q1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
      "HMSG $G foo | q1 q2 12 13\r\nNATS/1.0\r\n\r\nh\r\n"
      "A+ $G\r\n"
      "A- $G\r\n"
      "Au $G\r\n"
      "PUB foo 1\r\nx\r\n"
      "PING\r\nPONG\r\n"
      "-ERR 'x'\r\n";
  for (const FeedSetup& st : {route(), gateway()}) {
    const Outcome o = checked(st, in);
    EXPECT_EQ(o.status, ParseStatus::Ok);
    const Ev want = {
        "CONNECT {\"cluster\":\"c\"}",
        "INFO {\"id\":\"x\"}",
        "RS+ $G|foo||0",
        "RS+ $G|foo|bar|3",
        "RS+ acc|sub.x|q|-1",
        "RS- $G|foo|",
        "RS- $G|foo|bar",
        "RS+ $G|viasub||0",
        "RS- $G|viasub|",
        "RMSG $G|foo|||hi",
        "RMSG $G|foo|reply||hi",
        "RMSG $G|foo|reply|q1,q2|hi",
        "RMSG $G|foo||q1,q2,q3|hi",
        "RMSG $G|foo|reply||",
        "RMSG $G|foo||q1|x",
        "HMSG $G|foo|||NATS/1.0\r\n\r\n|hi",
        "HMSG $G|foo|reply||NATS/1.0\r\n\r\n|",
        "HMSG $G|foo|reply|q1|NATS/1.0\r\n\r\n|hi",
        "HMSG $G|foo||q1,q2|NATS/1.0\r\n\r\n|h",
        "A+ $G",
        "A- $G",
        "A- $G",
        "PUB foo||x",
        "PING",
        "PONG",
        "ERR 'x'",
    };
    EXPECT_EQ(o.ev, want);
  }
}

TEST(ParserRoute, LeafOriginOps) {
  const std::string in =
      "LS+ org $G foo\r\n"
      "ls+ org $G foo q 1\r\n"
      "LS- $G foo\r\n"
      "LS- org $G foo\r\n"
      "LMSG org $G foo 0 2\r\nhi\r\n"
      "LMSG org $G foo rep 0 2\r\nhi\r\n"
      "LMSG org $G foo + rep grp q2 0 2\r\nhi\r\n"
      "LMSG org $G foo | grp 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
  const Outcome o = checked(route(), in);
  EXPECT_EQ(o.status, ParseStatus::Ok);
  const Ev want = {
      "LS+ org|$G|foo||0",
      "LS+ org|$G|foo|q|1",
      "LS- $G|foo|",
      "LS- org|$G|foo",
      "LMSG org|$G|foo||||hi",
      "LMSG org|$G|foo|rep|||hi",
      "LMSG org|$G|foo|rep|grp,q2||hi",
      "LMSG org|$G|foo||grp|NATS/1.0\r\n\r\n|hi",
  };
  EXPECT_EQ(o.ev, want);
  // Only routes speak them.
  EXPECT_EQ(feed_whole(gateway(), "LS+ org $G foo\r\n").kind, ParseErrorKind::UnknownOp);
  EXPECT_EQ(feed_whole(FeedSetup{}, "LMSG org $G foo 0 0\r\n\r\n").kind,
            ParseErrorKind::UnknownOp);
  // A pinned route omits the account after the origin.
  FeedSetup st = route();
  st.pinned = "ACC";
  EXPECT_EQ(checked(st, "LS+ org foo q 2\r\nLMSG org foo + r q 0 1\r\nx\r\n").ev,
            (Ev{"LS+ org|ACC|foo|q|2", "LMSG org|ACC|foo|r|q||x"}));
}

TEST(ParserRoute, ManyQueues) {
  std::string line = "RMSG $G foo + r";
  std::string want_q;
  for (int i = 0; i < 300; ++i) {
    line += " q" + std::to_string(i);
    want_q += (i ? "," : "") + std::string("q") + std::to_string(i);
  }
  line += " 3\r\nabc\r\n";
  const Outcome o = checked(route(), line);
  EXPECT_EQ(o.ev, (Ev{"RMSG $G|foo|r|" + want_q + "|abc"}));
}

TEST(ParserRoute, RoutedMessagesIgnoreMaxPayload) {
  FeedSetup st = route();
  st.limits.max_payload = 2;
  const Outcome o = checked(st, "RMSG $G foo 5\r\nhello\r\n");
  EXPECT_EQ(o.ev, (Ev{"RMSG $G|foo|||hello"}));
  // ...but PUB on a route is checked like the reference's processPub.
  EXPECT_EQ(feed_whole(st, "PUB foo 5\r\nhello\r\n").kind, ParseErrorKind::MaxPayload);
}

TEST(ParserRoute, LongerControlLinesAllowed) {
  // Routes and gateways accept 16x the client limit.
  std::string in = "RS+ $G " + std::string(10000, 's') + "\r\n";
  EXPECT_EQ(feed_whole(route(), in).status, ParseStatus::Ok);
  in = "RS+ $G " + std::string(70000, 's') + "\r\n";
  EXPECT_EQ(feed_whole(route(), in).kind, ParseErrorKind::MaxControlLine);
}

TEST(ParserRoute, Errors) {
  using K = ParseErrorKind;
  struct Case { std::string in; K kind; };
  const std::vector<Case> cases = {
      {"RS+ $G\r\n", K::BadArgs},
      {"RS+ $G foo q\r\n", K::BadArgs},
      {"RS+ $G foo q 1 2\r\n", K::BadArgs},
      {"RS- $G\r\n", K::BadArgs},
      {"RS- $G foo q x\r\n", K::BadArgs},
      {"RMSG $G 2\r\n", K::BadArgs},
      {"RMSG $G foo x\r\n", K::BadArgs},
      {"RMSG $G foo * q1 2\r\n", K::BadArgs},
      {"RMSG $G foo ++ q1 2\r\n", K::BadArgs},
      {"RMSG $G foo + r q1 -2\r\n", K::BadArgs},
      {"HMSG $G foo 2\r\n", K::BadArgs},
      {"HMSG $G foo 3 2\r\n", K::BadArgs},
      {"HMSG $G foo x 2\r\n", K::BadArgs},
      {"HMSG $G foo + r q 3 2\r\n", K::BadArgs},
      {"RMSG $G foo 2\r\nhiX\r\n", K::UnknownOp},
      {"RX\r\n", K::UnknownOp},
      {"RS* a b\r\n", K::UnknownOp},
      {"A* x\r\n", K::UnknownOp},
      {"AU x\r\n", K::UnknownOp},  // only a lower-case 'u' is taken, as in the reference
      {"MSG a 1 1\r\nx\r\n", K::UnknownOp},
      {"LS+ a b\r\n", K::BadArgs},
      {"LS+ o a b q\r\n", K::BadArgs},
      {"LS- o a b q\r\n", K::BadArgs},
      {"LMSG o a b 2\r\n", K::BadArgs},
      {"LMSG o a b 3 2\r\n", K::BadArgs},
      {"LX\r\n", K::UnknownOp},
      {"LS* a b\r\n", K::UnknownOp},
  };
  for (const auto& c : cases) {
    const Outcome o = checked(route(), c.in);
    EXPECT_EQ(o.status, ParseStatus::Error) << c.in;
    EXPECT_EQ(o.kind, c.kind) << c.in;
  }
}

// The events of the ops below on a route pinned to account ACC, and of their leaf forms (LS+,
// LS-, LMSG) on a leaf connection bound to ACC: the same.
const Ev kAccEvents = {
    "RS+ ACC|foo||0",
    "RS+ ACC|foo|q|2",
    "RS- ACC|foo|",
    "RS- ACC|foo|q",
    "RMSG ACC|foo|||x",
    "RMSG ACC|foo|r||x",
    "RMSG ACC|foo|r|q1,q2|x",
    "RMSG ACC|foo||q1|x",
    "HMSG ACC|foo|||NATS/1.0\r\n\r\n|",
    "HMSG ACC|foo|r|q|NATS/1.0\r\n\r\n|x",
};

TEST(ParserRoute, PinnedAccount) {
  FeedSetup st = route();
  st.pinned = "ACC";
  const std::string in =
      "RS+ foo\r\nRS+ foo q 2\r\nRS- foo\r\nRS- foo q\r\n"
      "RMSG foo 1\r\nx\r\nRMSG foo r 1\r\nx\r\nRMSG foo + r q1 q2 1\r\nx\r\nRMSG foo | q1 1\r\nx\r\n"
      "HMSG foo 12 12\r\nNATS/1.0\r\n\r\n\r\nHMSG foo + r q 12 13\r\nNATS/1.0\r\n\r\nx\r\n";
  const Outcome o = checked(st, in);
  EXPECT_EQ(o.ev, kAccEvents);
  // Gateways have no pinned accounts: the setting is ignored.
  FeedSetup gw = gateway();
  gw.pinned = "ACC";
  EXPECT_EQ(feed_whole(gw, "RS+ $G foo\r\n").ev, (Ev{"RS+ $G|foo||0"}));
}

// A leaf connection is bound to one account (reported as the pinned one) and its LS+/LS-/
// LMSG/HMSG carry neither account nor origin (the reference's processLeafSub,
// processLeafUnsub, processLeafMsgArgs, processLeafHeaderMsgArgs).
TEST(ParserLeaf, LeafOpsOmitAccountAndOrigin) {
  FeedSetup st;
  st.kind = Kind::Leaf;
  st.pinned = "ACC";
  const std::string in =
      "LS+ foo\r\nLS+ foo q 2\r\nls- foo\r\nLS- foo q\r\n"
      "LMSG foo 1\r\nx\r\nLMSG foo r 1\r\nx\r\nLMSG foo + r q1 q2 1\r\nx\r\nLMSG foo | q1 1\r\nx\r\n"
      "HMSG foo 12 12\r\nNATS/1.0\r\n\r\n\r\nHMSG foo + r q 12 13\r\nNATS/1.0\r\n\r\nx\r\n";
  const Outcome o = checked(st, in);
  EXPECT_EQ(o.status, ParseStatus::Ok);
  EXPECT_EQ(o.ev, kAccEvents);
  using K = ParseErrorKind;
  for (auto [bad, kind] : std::vector<std::pair<std::string, K>>{{"LS+ a b\r\n", K::BadArgs},
                                                                 {"LS+ a b c d\r\n", K::BadArgs},
                                                                 {"LS- a b c\r\n", K::BadArgs},
                                                                 {"LMSG a x\r\n", K::BadArgs},
                                                                 {"HMSG a 3 2\r\n", K::BadArgs},
                                                                 {"LX\r\n", K::UnknownOp}}) {
    const Outcome e = checked(st, bad);
    EXPECT_EQ(e.status, ParseStatus::Error) << bad;
    EXPECT_EQ(e.kind, kind) << bad;
  }
}

TEST(ParserRoute, GatewayRequiresConnectFirst) {
  FeedSetup st = gateway();
  st.require_connect = true;
  EXPECT_EQ(feed_whole(st, "RS+ $G foo\r\n").kind, ParseErrorKind::AuthViolation);
  EXPECT_EQ(feed_whole(st, "INFO {}\r\n").kind, ParseErrorKind::AuthViolation);
}

}  // namespace
}  // namespace nats::proto::test::NATS_TEST_FILE_ID
