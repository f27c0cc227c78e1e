#include "common/path_root.h"

#include <algorithm>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stratus {
namespace fs = std::filesystem;

namespace {

// Path components without the empty one a trailing separator leaves.
std::vector<fs::path> Components(const fs::path& p) {
  std::vector<fs::path> out;
  for (const auto& c : p.lexically_normal()) {
    if (!c.empty()) out.push_back(c);
  }
  return out;
}

absl::StatusOr<fs::path> Resolve(const std::string& p, const char* what) {
  if (p.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (p.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " holds a NUL character"));
  }
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(fs::path(p), ec), ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " '", p, "' cannot be resolved: ", ec.message()));
  }
  return resolved;
}

}  // namespace

bool IsUnderRoot(const fs::path& path, const fs::path& root) {
  if (path.empty() || root.empty()) return false;
  const std::vector<fs::path> p = Components(path), r = Components(root);
  if (std::find(p.begin(), p.end(), "..") != p.end()) return false;
  if (p.size() < r.size()) return false;
  return std::equal(r.begin(), r.end(), p.begin());
}

absl::StatusOr<fs::path> ResolveUnderRoot(const std::string& path, const std::string& root) {
  return ResolveUnderRoots(path, {root});
}

absl::StatusOr<fs::path> ResolveUnderRoots(const std::string& path,
                                           const std::vector<std::string>& roots) {
  auto resolved = Resolve(path, "path");
  if (!resolved.ok()) return resolved.status();
  if (roots.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("'", path, "' is refused: no folder is configured for local files"));
  }
  for (const std::string& root : roots) {
    auto r = Resolve(root, "root");
    if (!r.ok()) return r.status();
    if (IsUnderRoot(*resolved, *r)) return *resolved;
  }
  return absl::PermissionDeniedError(absl::StrCat("'", path, "' is outside the allowed folders"));
}

}  // namespace stratus
