// Server version strings as the reference reads them (versionComponents/versionAtLeast):
// "v?MAJOR.MINOR.PATCH" at the start of the string, anything after ignored.
#pragma once

#include <string>
#include <string_view>

namespace nats::util {

struct SemVer {
  int major = 0, minor = 0, patch = 0;
};

// Empty on success, else the reference's error text ("invalid semver", or Go's strconv
// message for a missing or too large component).
std::string parse_semver(std::string_view s, SemVer& out);

// Whether `version` parses and is at least `min` (false when it does not parse).
bool version_at_least(std::string_view version, const SemVer& min);

}  // namespace nats::util
