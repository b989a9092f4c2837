#include "util/highwayhash.h"

#include <string>

#include <gtest/gtest.h>
#include <fmt/format.h>

// ::NATS_TEST_FILE_ID: local to this file, also in a unity batch (tests/CMakeLists.txt).
namespace nats::util::NATS_TEST_FILE_ID {
namespace {

// github.com/minio/highwayhash highwayhash_test.go testVectors64 (the library 2.9.10 uses): the
// Sum bytes of input[:i] (bytes 0,1,...,i-1) under the key 00 01 .. 1f, for i = 0..64.
const char* const kVectors[] = {
    "536ec222de567a90", "78ddcdc7aa43ab7e", "623db5b09a56d0b8", "803d468aabef6b5c",
    "da7e009368a405f2", "4145a9e468168a2b", "6fcaef5b32cc4cbd", "8294f53817ae024d",
    "71315fe5085120e1", "84157ac74e64d232", "0ba903b1cd0ae1f6", "155c415b61f4bbc3",
    "9cfa630004c23c24", "ff41e665ce589aa8", "235a4548a331b024", "3bf349a4863f7940",
    "32b87ef98934abcf", "e2c0c5c8d267fe19", "c25c569ca690dd04", "04c571238e51d975",
    "16ddd341119bad38", "e0708acd2c436402", "90336888625adba9", "8c023f009254b0d7",
    "1ee559ea5a615f20", "8428052196c8e0ee", "4f4f28a7931afc1b", "1da90db7b5752151",
    "39c6a2a076891ff7", "e7e3841fef3f09ae", "0f866111b092ca22", "685a03cf7c00c79f",
    "fc80d5ecd964c9a0", "fc8131a03cf7902c", "9eeb91564ef85c18", "9baa5227eff5c14f",
    "eb330a5e1a39b7f5", "9c6ce9b4834bb8b9", "b4d95c2a71fe425e", "dc973f0cf9f250a1",
    "7d632d5ed722a57f", "2bd3ff0dccd01a18", "2840851e98ed8938", "2dee86c5e89742fb",
    "9c0528bb454a066d", "0c86ecb309365690", "66c69740e9fca47a", "081e916bc0ba2613",
    "344f152b8d1626b9", "8d94b14589841999", "be5e8234c58fa9a2", "b6f03e21959080e9",
    "e9c07b7083542e58", "f56a8aa814946e08", "3d74f6208db986ee", "a7c0b109f67f9bf8",
    "e8c3229ec19c7d4c", "6f2a56245000979a", "efebe623f41cd45d", "27e268049c6013df",
    "5a158841f6a40d6e", "a1d4d7504bba55b7", "bd79746484347a88", "a03921bfe9eb8eab",
    "ffa6d24c5d2c5475",
};

std::array<uint8_t, 32> test_key() {
  std::array<uint8_t, 32> k{};
  for (int i = 0; i < 32; ++i) k[i] = static_cast<uint8_t>(i);
  return k;
}

std::string hex(const std::string& b) {
  std::string out;
  for (unsigned char c : b) out += fmt::format("{:02x}", c);
  return out;
}

TEST(HighwayHash, MatchesThePublishedVectors) {
  std::string input;
  HighwayHash64 h(test_key());
  for (size_t i = 0; i < std::size(kVectors); ++i) {
    h.reset();
    h.write(input);
    EXPECT_EQ(hex(h.sum_bytes()), kVectors[i]) << "length " << i;
    EXPECT_EQ(highway_hex(h), kVectors[i]);
    input.push_back(static_cast<char>(i));
  }
}

TEST(HighwayHash, PiecewiseWritesEqualOneWrite) {
  std::string input;
  for (int i = 0; i < 200; ++i) input.push_back(static_cast<char>(i * 7 + 3));
  HighwayHash64 whole(test_key());
  whole.write(input);
  for (size_t step : {1u, 3u, 17u, 31u, 32u, 33u, 100u}) {
    HighwayHash64 parts(test_key());
    for (size_t off = 0; off < input.size(); off += step) parts.write(std::string_view(input).substr(off, step));
    EXPECT_EQ(parts.sum64(), whole.sum64()) << "step " << step;
  }
  // sum64() does not consume the state: more input continues the same hash.
  HighwayHash64 a(test_key()), b(test_key());
  a.write(input.substr(0, 50));
  (void)a.sum64();
  a.write(input.substr(50));
  b.write(input);
  EXPECT_EQ(a.sum64(), b.sum64());
}

TEST(HighwayHash, KeysAreSha256OfTheName) {
  // sha256("") is e3b0c442...; the key is its 32 raw bytes.
  auto k = highway_key_sha256("");
  EXPECT_EQ(k[0], 0xe3);
  EXPECT_EQ(k[1], 0xb0);
  EXPECT_EQ(k[31], 0x55);
}

}  // namespace
}  // namespace nats::util::NATS_TEST_FILE_ID
