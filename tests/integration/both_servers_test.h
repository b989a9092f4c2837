// The base of a test fixture run against our server and the reference 2.9.10 alike: the test
// parameter is the server binary (instantiated with server_binary() and reference_binary()).
#pragma once

#include <gtest/gtest.h>

#include <string>

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

}  // namespace itest
