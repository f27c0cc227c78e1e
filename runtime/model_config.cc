#include "common/status_macros.h"
#include "runtime/model_config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stratus::runtime {
namespace {

class Parser {
 public:
  explicit Parser(const std::string& folder) : folder_(folder) {}

  absl::Status Error(const std::string& msg) const {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", folder_, "': config.yaml: ", msg));
  }

  template <typename T>
  absl::Status Get(const YAML::Node& parent, const std::string& key, const std::string& path,
                   bool required, T& out) const {
    const YAML::Node n = parent[key];
    if (!n || n.IsNull()) {
      return required ? Error(absl::StrCat("missing '", path, "'")) : absl::OkStatus();
    }
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Error(absl::StrCat("'", path, "' has the wrong type"));
    }
    return absl::OkStatus();
  }

  absl::Status Triple(const YAML::Node& parent, const std::string& key, const std::string& path,
                      std::array<float, 3>& out) const {
    const YAML::Node n = parent[key];
    if (!n || n.IsNull()) return absl::OkStatus();
    std::vector<float> v;
    try {
      if (n.IsScalar()) {
        v.assign(3, n.as<float>());
      } else {
        v = n.as<std::vector<float>>();
      }
    } catch (const YAML::Exception&) {
      return Error(absl::StrCat("'", path, "' must be a number or a list of 3 numbers"));
    }
    if (v.size() != 3) {
      return Error(absl::StrCat("'", path, "' must have 3 values (one per channel), has ",
                                v.size()));
    }
    for (int i = 0; i < 3; ++i) out[i] = v[i];
    return absl::OkStatus();
  }

 private:
  std::string folder_;
};

}  // namespace stratus::runtime
