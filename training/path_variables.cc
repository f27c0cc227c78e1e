#include "training/path_variables.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stratus::training {

absl::StatusOr<std::string> ExpandPathVariables(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 2) != "${") {
      out += text[i++];
      continue;
    }
    const size_t end = text.find('}', i);
    if (end == absl::string_view::npos) return absl::InvalidArgumentError("unclosed ${");
    std::string var(text.substr(i + 2, end - i - 2)), def;
    bool has_def = false;
    if (const size_t d = var.find(":-"); d != std::string::npos) {
      def = var.substr(d + 2);
      var = var.substr(0, d);
      has_def = true;
    }
    const char* v = std::getenv(var.c_str());
    if (v != nullptr && *v != '\0') {
      out += v;
    } else if (has_def) {
      out += def;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("environment variable ", var, " is not set"));
    }
    i = end + 1;
  }
  if (out == "~" || out.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    out = std::string(home ? home : "") + out.substr(1);
  }
  return out;
}

}  // namespace stratus::training
