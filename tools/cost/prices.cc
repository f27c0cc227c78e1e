#include "common/status_macros.h"
#include "tools/cost/prices.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "yaml-cpp/yaml.h"

namespace stratus::cost {
namespace {

template <typename T>
absl::Status Get(const YAML::Node& node, const char* key, const std::string& where, T* out,
                 bool required) {
  const YAML::Node v = node[key];
  if (!v) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(where, ".", key, " is missing"));
    return absl::OkStatus();
  }
  try {
    *out = v.as<T>();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": ", e.what()));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status GetOpt(const YAML::Node& node, const char* key, const std::string& where,
                    std::optional<T>* out) {
  if (!node[key]) return absl::OkStatus();
  T v{};
  absl::Status s = Get(node, key, where, &v, true);
  if (s.ok()) *out = v;
  return s;
}

}  // namespace stratus::cost
