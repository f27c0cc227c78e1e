#include "common/version.h"

#include "common/version_info.h"  // generated: STRATUS_VERSION, STRATUS_REVISION

namespace stratus {

std::string_view Version() { return STRATUS_VERSION; }
std::string_view Revision() { return STRATUS_REVISION; }

}  // namespace stratus
