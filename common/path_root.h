// Confining file paths that come from outside (image URIs, stream sources) to configured folders.
#ifndef STRATUS_COMMON_PATH_ROOT_H_
#define STRATUS_COMMON_PATH_ROOT_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace stratus {

// True when `path` is `root` or lies below it, compared component by component on the
// lexically normal forms: "/data-old/x" is not under "/data", "/data/x/../../etc" is not either.
// Does not touch the file system; pass resolved paths (ResolveUnderRoot does).
bool IsUnderRoot(const std::filesystem::path& path, const std::filesystem::path& root);

// Resolves `path` (relative to the working directory, symbolic links and "..", as far as the
// path exists) and `root` the same way, and returns the resolved path when it is under `root`.
// PERMISSION_DENIED, naming the path, when it is outside; INVALID_ARGUMENT when `root` or `path`
// is empty or holds a NUL. The file need not exist (the caller's open reports that).
absl::StatusOr<std::filesystem::path> ResolveUnderRoot(const std::string& path,
                                                       const std::string& root);

// As above, against several roots: the first one that holds the path.
absl::StatusOr<std::filesystem::path> ResolveUnderRoots(const std::string& path,
                                                        const std::vector<std::string>& roots);

}  // namespace stratus

#endif  // STRATUS_COMMON_PATH_ROOT_H_
