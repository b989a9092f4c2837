// Differential tests: the same scenario against our server and the reference 2.9.10.
//  - BothServersTest: the base of a fixture whose test parameter is the server binary
//    (instantiated with server_binary() and reference_binary()).
//  - per_binary / check_each: "run the scenario per binary, then check each result" within one
//    test, so that the runs can be compared with each other too.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <type_traits>

#include "harness.h"

namespace itest {

class BothServersTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Skips the reference's run where it is not installed; a derived SetUp() calls this first and
  // returns when IsSkipped().
  void SetUp() override {
    if (GetParam() != testing_harness::server_binary() && !testing_harness::reference_available())
      GTEST_SKIP() << "reference server not installed";
  }
  bool ours() const { return GetParam() == testing_harness::server_binary(); }
};

// Calls run(binary) for ours, then for the reference when it is installed
// (testing_harness::binaries_to_compare()). A run that returns a result: the results by
// binary, for check_each and for comparing the two. A run that returns nothing: each call is
// made under a SCOPED_TRACE naming its binary.
template <class Run>
auto per_binary(Run&& run) {
  using Result = std::invoke_result_t<Run&, const std::string&>;
  if constexpr (std::is_void_v<Result>) {
    for (const auto& bin : testing_harness::binaries_to_compare()) {
      SCOPED_TRACE(bin);
      run(bin);
    }
  } else {
    std::map<std::string, Result> got;
    for (const auto& bin : testing_harness::binaries_to_compare()) got.emplace(bin, run(bin));
    return got;
  }
}

// check(result) for each result of per_binary (or any map of results by binary or label),
// under a SCOPED_TRACE naming its key. A fatal failure inside check ends that key's check only.
template <class Result, class Check>
void check_each(const std::map<std::string, Result>& got, Check&& check) {
  for (const auto& [key, result] : got) {
    SCOPED_TRACE(key);
    check(result);
  }
}

}  // namespace itest
