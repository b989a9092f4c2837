// The exporter's subject a subscription in an importing account stands for (2.9.10's shadow
// subscriptions, server/import_interest.h): the import's prefix stripped, its `to` mapped
// back, the whole import for a wider or only overlapping subscription, nothing without overlap.
#include "server/import_interest.h"

#include <gtest/gtest.h>

// nats::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::NATS_TEST_FILE_ID {
namespace {

StreamImport import_of(std::string subject, std::string prefix = "", std::string to = "") {
  StreamImport si;
  si.account = "EXP";
  si.subject = std::move(subject);
  si.prefix = std::move(prefix);
  si.to = std::move(to);
  return si;
}

TEST(ImportInterest, PlainImportKeepsTheSubscriptionsSubject) {
  auto si = import_of("feed.>");
  EXPECT_EQ(import_exporter_subject(si, "feed.x"), "feed.x");
  EXPECT_EQ(import_exporter_subject(si, "feed.*"), "feed.*");
  EXPECT_EQ(import_exporter_subject(si, ">"), "feed.>");
  EXPECT_EQ(import_exporter_subject(si, "*.x"), "feed.>");
  EXPECT_EQ(import_exporter_subject(si, "other.x"), "");
}

TEST(ImportInterest, PrefixIsStripped) {
  auto si = import_of("feed.>", "p");
  EXPECT_EQ(import_exporter_subject(si, "p.feed.x"), "feed.x");
  EXPECT_EQ(import_exporter_subject(si, "p.>"), "feed.>");
  EXPECT_EQ(import_exporter_subject(si, "feed.x"), "");
}

TEST(ImportInterest, ToIsMappedBack) {
  EXPECT_EQ(import_exporter_subject(import_of("feed.*", "", "local.*"), "local.x"), "feed.x");
  EXPECT_EQ(import_exporter_subject(import_of("feed.*", "", "local.*"), "local.>"), "feed.*");
  EXPECT_EQ(import_exporter_subject(import_of("feed.x", "", "local.y"), "local.y"), "feed.x");
  EXPECT_EQ(import_exporter_subject(import_of("feed.x", "", "local.y"), "feed.x"), "");
}

}  // namespace
}  // namespace nats::NATS_TEST_FILE_ID
