// The TF.js weights-manifest reader (tools/import/tfjs_weights.h) on arbitrary manifests and
// shard bytes. Input: a 4-byte little-endian manifest length, the manifest JSON, then the shard
// bytes; the first path a group names reads the shard bytes, every later one reads nothing (a
// group's shards are one stream, so this is the same as splitting it anywhere). Checks: no
// crash, leak or undefined behaviour; a successful read has as many values as each shape says.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tools/import/tfjs_weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t len;
  std::memcpy(&len, data, 4);
  const std::string rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  const size_t manifest_len = std::min<size_t>(len, rest.size());
  const std::string manifest = rest.substr(0, manifest_len);
  const std::string shard = rest.substr(manifest_len);
  bool first = true;
  auto read = [&](const std::string&) -> absl::StatusOr<std::string> {
    if (!first) return std::string();
    first = false;
    return shard;
  };
  auto weights = stratus::import::ParseTfjsWeights(manifest, read, "fuzz");
  if (weights.ok()) {
    for (const auto& [name, t] : *weights) {
      if (t.numel() < 0 || static_cast<size_t>(t.numel()) != t.values.size()) abort();
    }
  }
  return 0;
}
