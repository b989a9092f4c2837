// What the file store tests share: a directory of their own per test, and a set of generated
// messages with the checks that a store holds exactly them. Header-only; included by several
// test files, also when they are batched into one unity translation unit.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "jetstream/store/file_store.h"

namespace nats::jetstream::store_test {

// The numbered files (<n><ext>, e.g. ".blk", ".sum", ".idx") in `dir`, in order.
inline std::vector<uint64_t> files_with(const std::string& dir, const std::string& ext) {
  std::vector<uint64_t> out;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(std::stoull(e.path().stem().string()));
  std::sort(out.begin(), out.end());
  return out;
}

// A fresh directory per test, named by the fixture's prefix, the pid and the test (tests run
// in parallel processes), and its crash copy "<dir>-copy": both removed before and after.
class StoreDirTest : public ::testing::Test {
 protected:
  explicit StoreDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            (prefix_ + "-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    remove_dirs();
  }
  void TearDown() override { remove_dirs(); }
  static std::vector<uint64_t> files_with(const std::string& dir, const std::string& ext) {
    return store_test::files_with(dir, ext);
  }
  std::vector<uint64_t> files_with(const std::string& ext) const { return files_with(dir_, ext); }
  std::string dir_;

 private:
  void remove_dirs() {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove_all(dir_ + "-copy");
  }
  std::string prefix_;
};

// Generated messages. Below 1000: varied subjects, sizes and headers; from 1000 on: one
// subject and one size (run entries in the block summaries).
inline std::string subject_for(uint64_t s) { return s >= 1000 ? "u" : "s." + std::to_string(s % 5); }
inline std::string payload_for(uint64_t s) {
  return s >= 1000 ? std::string(60, 'u') : "p-" + std::to_string(s) + std::string(s % 40, 'y');
}
inline std::string headers_for(uint64_t s) { return s < 1000 && s % 4 == 0 ? "NATS/1.0\r\nK: v\r\n\r\n" : ""; }

// Stores the generated messages `from`..`to`, which must get those sequences.
inline void fill(FileStore& st, uint64_t from, uint64_t to) {
  for (uint64_t s = from; s <= to; ++s) ASSERT_EQ(st.store_msg(subject_for(s), headers_for(s), payload_for(s)).seq, s);
}

// `st` has the state `want` and holds every generated message of it but the `removed` ones.
inline void expect_same(FileStore& st, const StoreState& want, const std::set<uint64_t>& removed) {
  auto got = st.state();
  EXPECT_EQ(got.msgs, want.msgs);
  EXPECT_EQ(got.bytes, want.bytes);
  EXPECT_EQ(got.first_seq, want.first_seq);
  EXPECT_EQ(got.last_seq, want.last_seq);
  EXPECT_EQ(got.first_ts, want.first_ts);
  EXPECT_EQ(got.last_ts, want.last_ts);
  EXPECT_EQ(got.num_subjects, want.num_subjects);
  EXPECT_EQ(got.deleted, want.deleted);
  for (uint64_t s = want.first_seq; s <= want.last_seq; ++s) {
    StoredMsg m;
    StoreErr e = st.load_msg(s, m);
    if (removed.count(s)) {
      EXPECT_EQ(e, StoreErr::not_found) << s;
      continue;
    }
    ASSERT_EQ(e, StoreErr::ok) << s;
    EXPECT_EQ(m.subject, subject_for(s));
    EXPECT_EQ(m.headers, headers_for(s));
    EXPECT_EQ(m.payload, payload_for(s));
  }
}

}  // namespace nats::jetstream::store_test
