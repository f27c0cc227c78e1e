// The version of this build: the project version from CMake and the source revision (git,
// with "-dirty" when the tree had uncommitted changes; "unknown" outside a git checkout),
// refreshed at every build by cmake/version.cmake. Every binary prints it for --version and
// exports it as the <prefix>_build_info gauge.
#ifndef STRATUS_COMMON_VERSION_H_
#define STRATUS_COMMON_VERSION_H_

#include <string_view>

namespace stratus {

std::string_view Version();
std::string_view Revision();

}  // namespace stratus

#endif  // STRATUS_COMMON_VERSION_H_
